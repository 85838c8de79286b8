// OffsetCommit and OffsetFetch: committed positions per (group, topic, partition), durable before answered.
// Invariant: a commit from a member of an old generation is refused, so a rebalanced partition's new owner wins.

import {
  type OffsetFetchRequestOffsetFetchRequestTopic as FetchTopic,
  KafkaErrorCode,
  kafkaApis,
} from "@spindle/protocol";
import type { Groups } from "../../../streams/index.ts";
import { KAFKA_GROUP_ERROR } from "../error-map.ts";
import { defineHandler } from "../handler.ts";
import { checkCommits, commitAnswers } from "./commit-offsets.ts";

export const offsetCommitHandler = defineHandler(kafkaApis[8], 0, 8, async (req, ctx) => {
  const { groups, topics } = ctx.broker;
  const { codes, offsets } = checkCommits(topics, req.topics);
  let groupCode: number = KafkaErrorCode.NONE;
  if (req.groupId === "") groupCode = KafkaErrorCode.INVALID_GROUP_ID;
  else if (offsets.length > 0) {
    const gen = req.generationIdOrMemberEpoch ?? -1;
    const outcome = await groups.commit(
      req.groupId,
      gen,
      req.memberId ?? "",
      offsets,
      req.groupInstanceId ?? null,
    );
    groupCode = KAFKA_GROUP_ERROR[outcome];
  }
  return {
    throttleTimeMs: 0,
    topics: commitAnswers(req.topics, codes, groupCode),
  };
});

/**
 * `stable` (require_stable, KIP-447): a partition whose offset an open transaction is about to commit answers
 * UNSTABLE_OFFSET_COMMIT, which consumers retry, so a restarted consumer does not start from the older one.
 */
function fetchOffsets(
  groups: Groups,
  groupId: string,
  asked: FetchTopic[] | null,
  unstable: (topic: string, partition: number) => boolean,
) {
  const byTopic = new Map<
    string,
    {
      partitionIndex: number;
      committedOffset: bigint;
      metadata: string | null;
      errorCode: number;
      committedLeaderEpoch: number;
    }[]
  >();
  const add = (topic: string, partition: number) => {
    const c = groups.committed(groupId, topic, partition);
    const list = byTopic.get(topic) ?? [];
    list.push({
      partitionIndex: partition,
      committedOffset: BigInt(c?.offset ?? -1),
      committedLeaderEpoch: -1,
      metadata: c?.metadata ?? "",
      errorCode: unstable(topic, partition) ? KafkaErrorCode.UNSTABLE_OFFSET_COMMIT : KafkaErrorCode.NONE,
    });
    byTopic.set(topic, list);
  };
  if (asked === null) for (const c of groups.committedAll(groupId)) add(c.topic, c.partition);
  else for (const t of asked) for (const p of t.partitionIndexes) add(t.name, p);
  return [...byTopic].map(([name, partitions]) => ({ name, partitions }));
}

// v8 asks for several groups at once (KIP-709); @platformatic/kafka speaks only v8+.
export const offsetFetchHandler = defineHandler(kafkaApis[9], 1, 8, (req, ctx) => {
  const { transactions } = ctx.broker;
  const unstableIn = (groupId: string) => (topic: string, partition: number) =>
    req.requireStable === true && transactions.hasPendingOffset(groupId, topic, partition);
  if (req.groups !== undefined && req.groups.length > 0) {
    const groups = req.groups.map((g) => ({
      groupId: g.groupId,
      topics: fetchOffsets(ctx.broker.groups, g.groupId, g.topics, unstableIn(g.groupId)),
      errorCode: KafkaErrorCode.NONE,
    }));
    return { throttleTimeMs: 0, groups };
  }
  const groupId = req.groupId ?? "";
  const topics = fetchOffsets(ctx.broker.groups, groupId, req.topics ?? null, unstableIn(groupId));
  return { throttleTimeMs: 0, topics, errorCode: KafkaErrorCode.NONE };
});
