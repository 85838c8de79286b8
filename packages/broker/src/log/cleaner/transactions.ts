// What the cleaner does with Kafka transactions, as Kafka's LogCleaner does: batches of aborted transactions
// are dropped (and never enter the key map), a commit/abort marker goes once no data batch of its
// transaction is left and delete.retention.ms has passed, and nothing at or past the last stable offset is
// cleaned. Invariant: a read_committed consumer sees the same records before and after a cleaning.

import { readInt64, TRANSACTIONAL_FLAG } from "@spindle/protocol";
import { isControlBatch } from "./batch-filter.ts";

/** A partition's transactions as the cleaner needs them (the stream layer provides it; log/ knows none). */
export interface TransactionView {
  /** offsets at and past it may belong to undecided transactions */
  lastStableOffset(highWatermark: number): number;
  /** aborted transactions whose offsets overlap [from, to); lastOffset is the abort marker's */
  abortedIn(
    from: number,
    to: number,
  ): readonly { producerId: number; firstOffset: number; lastOffset: number }[];
}

export const isTransactional = (batch: Buffer): boolean => (batch.readInt16BE(21) & TRANSACTIONAL_FLAG) !== 0;
const producerOf = (batch: Buffer): number => readInt64(batch, 43);

/** The aborted ranges of one cleaning, by producer. */
export class AbortedIndex {
  private readonly byProducer = new Map<number, { firstOffset: number; lastOffset: number }[]>();

  constructor(view: TransactionView | undefined, from: number, to: number) {
    for (const r of view?.abortedIn(from, to) ?? []) {
      const list = this.byProducer.get(r.producerId) ?? [];
      list.push(r);
      this.byProducer.set(r.producerId, list);
    }
  }

  /** A data batch of an aborted transaction: no consumer should ever see it. */
  abortedData(batch: Buffer): boolean {
    if (!isTransactional(batch) || isControlBatch(batch)) return false;
    const base = readInt64(batch, 0);
    const ranges = this.byProducer.get(producerOf(batch));
    return ranges?.some((r) => r.firstOffset <= base && base <= r.lastOffset) ?? false;
  }
}

/**
 * Follows transactions through one cleaning in log order: which producers' current transactions still
 * have a data batch in the cleaned copy, so their marker must stay.
 */
export class MarkerTracker {
  private readonly keptData = new Map<number, boolean>();

  /** A transactional data batch was copied (`kept`) or dropped. */
  data(batch: Buffer, kept: boolean): void {
    if (!isTransactional(batch)) return;
    const pid = producerOf(batch);
    this.keptData.set(pid, kept || this.keptData.get(pid) === true);
  }

  /** A marker: may it go (nothing of its transaction is left and its horizon has passed)? Ends the transaction. */
  markerRemovable(batch: Buffer, horizonMs: number): boolean {
    const pid = producerOf(batch);
    const kept = this.keptData.get(pid) === true;
    this.keptData.delete(pid);
    return !kept && readInt64(batch, 35) < horizonMs;
  }
}
