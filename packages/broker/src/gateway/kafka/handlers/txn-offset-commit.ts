// TxnOffsetCommit: a consumer group's offsets sent inside a transaction, visible only when it commits.
// Invariant: the offsets are held durably with the transaction; the group sees them at commit, never at abort.

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { LIMITS } from "../../../lib/index.ts";
import { txnErrorCode } from "../error-map.ts";
import { defineHandler } from "../handler.ts";

/** KIP-588: PRODUCER_FENCED from v3 on */
const FENCED_SINCE = 3;

export const txnOffsetCommitHandler = defineHandler(kafkaApis[28], 0, 4, async (req, ctx) => {
  const { topics, transactions } = ctx.broker;
  const codes = new Map<string, number>();
  const offsets = [];
  for (const t of req.topics) {
    const topic = topics.get(t.name);
    for (const p of t.partitions) {
      const key = `${t.name}\0${p.partitionIndex}`;
      if (topic?.partitions[p.partitionIndex] === undefined)
        codes.set(key, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      else if ((p.committedMetadata?.length ?? 0) > LIMITS.kafkaOffsetMetadataBytesMax)
        codes.set(key, KafkaErrorCode.OFFSET_METADATA_TOO_LARGE);
      else
        offsets.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: Number(p.committedOffset),
          metadata: p.committedMetadata,
        });
    }
  }
  let code: number = KafkaErrorCode.NONE;
  if (req.groupId === "") code = KafkaErrorCode.INVALID_GROUP_ID;
  else if (offsets.length > 0) {
    const e = await transactions.txnOffsetCommit(
      req.transactionalId,
      Number(req.producerId),
      req.producerEpoch,
      {
        groupId: req.groupId,
        generationId: req.generationId ?? -1,
        memberId: req.memberId ?? "",
        groupInstanceId: req.groupInstanceId ?? null,
        offsets,
      },
    );
    code = txnErrorCode(e, ctx.version, FENCED_SINCE);
  }
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: codes.get(`${t.name}\0${p.partitionIndex}`) ?? code,
      })),
    })),
  };
});
