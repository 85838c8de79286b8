// Idempotent-producer bookkeeping for one partition: per producer id, its epoch and its last few batches.
// Invariant: a batch whose sequences were already appended is never appended again; it gets the first
// append's outcome. A batch that skips sequence numbers is refused.

import { LIMITS } from "../lib/index.ts";
import type { AppendResult } from "../log/index.ts";

export type SequenceOutcome =
  | { kind: "append" }
  | { kind: "duplicate"; result: Promise<AppendResult> }
  | { kind: "out-of-order"; expected: number }
  | { kind: "fenced"; epoch: number };

export interface BatchIdentity {
  producerId: number;
  epoch: number;
  firstSeq: number;
  lastSeq: number;
}

interface Recent {
  firstSeq: number;
  lastSeq: number;
  result: Promise<AppendResult>;
}

interface ProducerEntry {
  epoch: number;
  /** newest last */
  recent: Recent[];
}

/** Kafka keeps this many batches per producer to answer retries (max.in.flight ≤ 5). */
const RECENT_MAX = 5;
const INT32_MAX = 2 ** 31 - 1;

const next = (seq: number) => (seq === INT32_MAX ? 0 : seq + 1);

export class ProducerState {
  private readonly producers = new Map<number, ProducerEntry>();

  /** Decides what to do with a batch; call `record` right after starting an append. */
  check(b: BatchIdentity): SequenceOutcome {
    const entry = this.producers.get(b.producerId);
    if (entry === undefined) return { kind: "append" };
    if (b.epoch < entry.epoch) return { kind: "fenced", epoch: entry.epoch };
    if (b.epoch > entry.epoch)
      return b.firstSeq === 0 ? { kind: "append" } : { kind: "out-of-order", expected: 0 };
    const dup = entry.recent.find((r) => r.firstSeq === b.firstSeq && r.lastSeq === b.lastSeq);
    if (dup) return { kind: "duplicate", result: dup.result };
    const last = entry.recent[entry.recent.length - 1];
    if (last === undefined || b.firstSeq === next(last.lastSeq)) return { kind: "append" };
    return { kind: "out-of-order", expected: next(last.lastSeq) };
  }

  /** Every producer known here, oldest first, with the last sequence appended (-1 when none since its epoch). */
  list(): { producerId: number; epoch: number; lastSeq: number }[] {
    return [...this.producers].map(([producerId, e]) => ({
      producerId,
      epoch: e.epoch,
      lastSeq: e.recent[e.recent.length - 1]?.lastSeq ?? -1,
    }));
  }

  /** Makes `epoch` the producer's current one (a transaction marker's); older epochs are refused from now on. */
  fence(producerId: number, epoch: number): void {
    const entry = this.producers.get(producerId);
    if (entry !== undefined && entry.epoch >= epoch) return;
    this.producers.delete(producerId);
    this.producers.set(producerId, { epoch, recent: [] });
  }

  record(b: BatchIdentity, result: Promise<AppendResult>): void {
    let entry = this.producers.get(b.producerId);
    if (entry === undefined || b.epoch > entry.epoch) entry = { epoch: b.epoch, recent: [] };
    this.producers.delete(b.producerId);
    this.producers.set(b.producerId, entry);
    entry.recent.push({ firstSeq: b.firstSeq, lastSeq: b.lastSeq, result });
    if (entry.recent.length > RECENT_MAX) entry.recent.shift();
    if (this.producers.size > LIMITS.producersPerPartitionMax) {
      const oldest = this.producers.keys().next().value;
      if (oldest !== undefined) this.producers.delete(oldest);
    }
    // A failed append must not be answered as a duplicate's success later: forget it.
    result.catch(() => {
      const e = this.producers.get(b.producerId);
      if (e) e.recent = e.recent.filter((r) => r.result !== result);
    });
  }
}
