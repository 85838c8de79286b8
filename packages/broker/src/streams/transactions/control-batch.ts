// Commit and abort markers: the control batches a transaction's end writes into each of its partitions.
// Invariant: a marker is a v2 batch with the TRANSACTIONAL and CONTROL attributes, the transaction's producer
// id and epoch, sequence -1 and one record keyed (version 0, type) as Kafka's ControlRecordType.

import { CONTROL_FLAG, encodeRecordBatch, readInt64, TRANSACTIONAL_FLAG } from "@spindle/protocol";
import { crc32c } from "../../lib/index.ts";

const ATTRIBUTES_AT = 21;
const PRODUCER_ID_AT = 43;
const PRODUCER_EPOCH_AT = 51;
const ABORT = 0;
const COMMIT = 1;

export type MarkerType = "commit" | "abort";

export function controlBatch(producerId: number, epoch: number, type: MarkerType, nowMs: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type === "commit" ? COMMIT : ABORT, 2);
  // value: version 0, coordinator epoch 0 (one coordinator, never moved)
  const value = Buffer.alloc(6);
  return encodeRecordBatch(
    {
      records: [{ key, value }],
      timestamp: nowMs,
      attributes: TRANSACTIONAL_FLAG | CONTROL_FLAG,
      producerId,
      producerEpoch: epoch,
      baseSequence: -1,
    },
    crc32c,
  );
}

export function batchAttributes(batch: Buffer): number {
  return batch.readInt16BE(ATTRIBUTES_AT);
}

export function isControlBatch(batch: Buffer): boolean {
  return (batchAttributes(batch) & CONTROL_FLAG) !== 0;
}

export function isTransactionalBatch(batch: Buffer): boolean {
  return (batchAttributes(batch) & TRANSACTIONAL_FLAG) !== 0;
}

export function batchProducer(batch: Buffer): { producerId: number; epoch: number } {
  return { producerId: readInt64(batch, PRODUCER_ID_AT), epoch: batch.readInt16BE(PRODUCER_EPOCH_AT) };
}
