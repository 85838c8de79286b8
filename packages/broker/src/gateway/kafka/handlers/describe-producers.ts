// DescribeProducers: the producers each partition knows, with their epoch, last sequence and the start of
// their open transaction (what Kafka's kafka-transactions.sh uses to find hanging transactions).
// Invariant: read-only; an unknown partition is UNKNOWN_TOPIC_OR_PARTITION.

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { defineHandler } from "../handler.ts";

export const describeProducersHandler = defineHandler(kafkaApis[61], 0, 0, (req, ctx) => ({
  throttleTimeMs: 0,
  topics: req.topics.map((t) => {
    const topic = ctx.broker.topics.get(t.name);
    return {
      name: t.name,
      partitions: t.partitionIndexes.map((index) => {
        const p = topic?.partitions[index];
        if (topic === undefined || p === undefined) {
          return {
            partitionIndex: index,
            errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: null,
            activeProducers: [],
          };
        }
        const activeProducers = p.producerStates().map((s) => ({
          producerId: BigInt(s.producerId),
          producerEpoch: s.epoch,
          lastSequence: s.lastSeq,
          // not kept: the time of a producer's last batch
          lastTimestamp: -1n,
          coordinatorEpoch: 0,
          currentTxnStartOffset: BigInt(
            ctx.broker.transactions.openTxnStart(topic.def.topicId, index, s.producerId),
          ),
        }));
        return { partitionIndex: index, errorCode: KafkaErrorCode.NONE, errorMessage: null, activeProducers };
      }),
    };
  }),
}));
