// What OffsetCommit and TxnOffsetCommit share: checking each asked partition before the group (or the
// transaction) takes the offsets, and answering per partition — a partition's own error, else the request's.

import { KafkaErrorCode } from "@spindle/protocol";
import { LIMITS } from "../../../lib/index.ts";
import type { CommittedOffset, Topics } from "../../../streams/index.ts";

interface AskedTopic {
  readonly name: string;
  readonly partitions: readonly {
    readonly partitionIndex: number;
    readonly committedOffset: bigint | number;
    readonly committedMetadata?: string | null;
  }[];
}

export interface CheckedCommits {
  /** errors of single partitions, by `topic\0partition` */
  readonly codes: Map<string, number>;
  /** the offsets of the partitions without one */
  readonly offsets: CommittedOffset[];
}

const keyOf = (topic: string, partition: number) => `${topic}\0${partition}`;

/** Unknown partitions and oversized metadata are refused one by one; the rest are committed together. */
export function checkCommits(topics: Topics, asked: readonly AskedTopic[]): CheckedCommits {
  const codes = new Map<string, number>();
  const offsets: CommittedOffset[] = [];
  for (const t of asked) {
    const topic = topics.get(t.name);
    for (const p of t.partitions) {
      const key = keyOf(t.name, p.partitionIndex);
      if (topic?.partitions[p.partitionIndex] === undefined)
        codes.set(key, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      else if ((p.committedMetadata?.length ?? 0) > LIMITS.kafkaOffsetMetadataBytesMax)
        codes.set(key, KafkaErrorCode.OFFSET_METADATA_TOO_LARGE);
      else
        offsets.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: Number(p.committedOffset),
          metadata: p.committedMetadata ?? null,
        });
    }
  }
  return { codes, offsets };
}

/** The response's topics: each partition's own error, else `code` (the group's or the transaction's). */
export function commitAnswers(asked: readonly AskedTopic[], codes: Map<string, number>, code: number) {
  return asked.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({
      partitionIndex: p.partitionIndex,
      errorCode: codes.get(keyOf(t.name, p.partitionIndex)) ?? code,
    })),
  }));
}
