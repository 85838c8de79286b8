// One partition's view of transactions: which producers have an open transaction in it (from which offset)
// and the aborted ranges read_committed consumers must skip.
// Invariant: the last stable offset never passes the first offset of an open transaction.

import type { AbortedRange } from "./txn-types.ts";

export class PartitionTxns {
  constructor(
    readonly topicId: string,
    readonly partition: number,
  ) {}

  /** producer id → the first offset (a lower bound) of its open transaction here */
  private readonly open = new Map<number, number>();
  /** sorted by firstOffset */
  private aborted: AbortedRange[] = [];

  begin(producerId: number, firstOffset: number): void {
    if (!this.open.has(producerId)) this.open.set(producerId, firstOffset);
  }

  firstOpenOffset(producerId: number): number | undefined {
    return this.open.get(producerId);
  }

  end(producerId: number): void {
    this.open.delete(producerId);
  }

  get openCount(): number {
    return this.open.size;
  }

  /** The high watermark held back to the first open transaction's first offset. */
  lastStable(highWatermark: number): number {
    let lso = highWatermark;
    for (const first of this.open.values()) if (first < lso) lso = first;
    return lso;
  }

  addAborted(r: AbortedRange): void {
    let i = this.aborted.length;
    while (i > 0 && (this.aborted[i - 1] as AbortedRange).firstOffset > r.firstOffset) i--;
    this.aborted.splice(i, 0, r);
  }

  /** Aborted transactions that overlap [from, to): what a read_committed fetch of that range needs. */
  abortedIn(from: number, to: number): AbortedRange[] {
    const out: AbortedRange[] = [];
    for (const r of this.aborted) {
      if (r.firstOffset >= to) break;
      if (r.lastOffset >= from) out.push(r);
    }
    return out;
  }

  get abortedCount(): number {
    return this.aborted.length;
  }

  /** Forgets ranges wholly below the log start (deleted by retention or DeleteRecords); returns them. */
  pruneBelow(startOffset: number): AbortedRange[] {
    const gone = this.aborted.filter((r) => r.lastOffset < startOffset);
    if (gone.length > 0) this.aborted = this.aborted.filter((r) => r.lastOffset >= startOffset);
    return gone;
  }
}
