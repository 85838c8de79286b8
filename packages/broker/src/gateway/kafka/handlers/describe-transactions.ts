// DescribeTransactions and ListTransactions: the coordinator's view of each transactional id, for admins.
// Invariant: states are Kafka's names; an unknown id is TRANSACTIONAL_ID_NOT_FOUND, an unknown state filter is reported.

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { TXN_STATES, type TxnRecord, type TxnState } from "../../../streams/index.ts";
import { defineHandler } from "../handler.ts";

function topicsOf(t: TxnRecord): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const p of t.partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}

export const describeTransactionsHandler = defineHandler(kafkaApis[65], 0, 0, (req, ctx) => ({
  throttleTimeMs: 0,
  transactionStates: req.transactionalIds.map((id) => {
    const t = ctx.broker.transactions.describe(id);
    if (t === undefined) {
      return {
        errorCode: KafkaErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
        transactionalId: id,
        transactionState: "",
        transactionTimeoutMs: 0,
        transactionStartTimeMs: -1n,
        producerId: -1n,
        producerEpoch: -1,
        topics: [],
      };
    }
    return {
      errorCode: KafkaErrorCode.NONE,
      transactionalId: id,
      transactionState: t.state,
      transactionTimeoutMs: t.timeoutMs,
      transactionStartTimeMs: BigInt(t.startMs),
      producerId: BigInt(t.producerId),
      producerEpoch: t.epoch,
      topics: topicsOf(t),
    };
  }),
}));

export const listTransactionsHandler = defineHandler(kafkaApis[66], 0, 1, (req, ctx) => {
  const states = new Set(req.stateFilters);
  const pids = new Set(req.producerIdFilters.map(Number));
  // v1 (KIP-994): only transactions running longer than this many ms
  const minDuration = Number(req.durationFilter ?? -1n);
  const now = ctx.broker.clock.nowMs();
  const listed = ctx.broker.transactions
    .list()
    .filter((t) => states.size === 0 || states.has(t.state))
    .filter((t) => pids.size === 0 || pids.has(t.producerId))
    .filter((t) => minDuration < 0 || (t.state === "Ongoing" && now - t.startMs > minDuration));
  return {
    throttleTimeMs: 0,
    errorCode: KafkaErrorCode.NONE,
    unknownStateFilters: req.stateFilters.filter((s) => !TXN_STATES.includes(s as TxnState)),
    transactionStates: listed.map((t) => ({
      transactionalId: t.transactionalId,
      producerId: BigInt(t.producerId),
      transactionState: t.state,
    })),
  };
});
