// InitProducerId: a fresh producer id (epoch 0) for idempotent producers, or the next epoch of a known one;
// with a transactional id, the coordinator's id for it with its epoch bumped (older epochs fenced).
// Invariant: a transactional producer's id and epoch come only from the transaction coordinator.

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { txnErrorCode } from "../error-map.ts";
import { defineHandler } from "../handler.ts";

const EPOCH_MAX = 32767;
/** KIP-588: PRODUCER_FENCED from v4 on */
const FENCED_SINCE = 4;

export const initProducerIdHandler = defineHandler(kafkaApis[22], 0, 4, async (req, ctx) => {
  const given = req.producerId ?? -1n;
  const epoch = req.producerEpoch ?? -1;
  if (req.transactionalId !== null && req.transactionalId !== undefined && req.transactionalId !== "") {
    const r = await ctx.broker.transactions.initProducerId(req.transactionalId, req.transactionTimeoutMs, {
      producerId: Number(given),
      epoch,
    });
    return {
      throttleTimeMs: 0,
      errorCode: txnErrorCode(r.error, ctx.version, FENCED_SINCE),
      producerId: BigInt(r.producerId),
      producerEpoch: r.epoch,
    };
  }
  if (given >= 0n && epoch >= 0 && epoch < EPOCH_MAX) {
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, producerId: given, producerEpoch: epoch + 1 };
  }
  const id = await ctx.broker.producerIds.allocate();
  return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, producerId: BigInt(id), producerEpoch: 0 };
});
