// AddPartitionsToTxn (client versions 0-3): partitions join the producer's transaction before it writes to them.
// Invariant: a partition is in the transaction (durably) before the answer lets the producer write to it.

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { txnErrorCode } from "../error-map.ts";
import { defineHandler } from "../handler.ts";

/** KIP-588: PRODUCER_FENCED from v2 on */
const FENCED_SINCE = 2;

// v4+ batches several transactions for broker-to-broker verification (KIP-890); clients use v3 and below.
export const addPartitionsToTxnHandler = defineHandler(kafkaApis[24], 0, 3, async (req, ctx) => {
  const topics = req.v3AndBelowTopics ?? [];
  const wanted = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
  const outcome = await ctx.broker.transactions.addPartitions(
    req.v3AndBelowTransactionalId ?? "",
    Number(req.v3AndBelowProducerId ?? -1n),
    req.v3AndBelowProducerEpoch ?? -1,
    wanted,
  );
  // one bad partition fails the request; the others are reported as not attempted, as Kafka does
  const codeOf = (topic: string, partition: number): number => {
    if (typeof outcome === "string") return txnErrorCode(outcome, ctx.version, FENCED_SINCE);
    const e = outcome.get(`${topic}:${partition}`);
    return e === undefined
      ? KafkaErrorCode.OPERATION_NOT_ATTEMPTED
      : txnErrorCode(e, ctx.version, FENCED_SINCE);
  };
  return {
    throttleTimeMs: 0,
    resultsByTopicV3AndBelow: topics.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((p) => ({
        partitionIndex: p,
        partitionErrorCode: codeOf(t.name, p),
      })),
    })),
  };
});
