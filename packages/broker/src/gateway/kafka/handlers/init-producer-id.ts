// InitProducerId: a fresh producer id (epoch 0) for idempotent producers, or the next epoch of a known one.
// Invariant: transactional ids are refused (no transaction coordinator here), never half-supported.

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { defineHandler } from "../handler.ts";

const EPOCH_MAX = 32767;

export const initProducerIdHandler = defineHandler(kafkaApis[22], 0, 4, async (req, ctx) => {
  const fail = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 });
  // the code FindCoordinator gives a transactional id: one every client fails on at once (see there)
  if (req.transactionalId !== null && req.transactionalId !== undefined) {
    return fail(KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  }
  const given = req.producerId ?? -1n;
  const epoch = req.producerEpoch ?? -1;
  if (given >= 0n && epoch >= 0 && epoch < EPOCH_MAX) {
    return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, producerId: given, producerEpoch: epoch + 1 };
  }
  const id = await ctx.broker.producerIds.allocate();
  return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, producerId: BigInt(id), producerEpoch: 0 };
});
