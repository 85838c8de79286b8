// The ready messages a queue holds in memory: requeued ones (by offset) ahead of pending ones (log order,
// or by priority under x-max-priority). Invariant: pendingBytes is the sum of messageBytes over pending.

import { messageBytes, type QueuedMessage } from "./message.ts";

export class ReadyList {
  private requeued: QueuedMessage[] = [];
  private pending: QueuedMessage[] = [];
  pendingBytes = 0;

  constructor(private readonly maxPriority: number | undefined) {}

  get length(): number {
    return this.requeued.length + this.pending.length;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  pushPending(qm: QueuedMessage): void {
    this.pending.push(qm);
    this.pendingBytes += messageBytes(qm.message);
  }

  /** Back at its place among the requeued, by offset. */
  requeue(qm: QueuedMessage): void {
    let i = this.requeued.length;
    while (i > 0 && (this.requeued[i - 1] as QueuedMessage).offset > qm.offset) i--;
    this.requeued.splice(i, 0, qm);
  }

  /** The message shift() would return next when priorities are off; the oldest otherwise. */
  peek(): QueuedMessage | undefined {
    return this.requeued[0] ?? this.pending[0];
  }

  /** Removes a message that peek() returned. */
  remove(qm: QueuedMessage): void {
    if (this.requeued[0] === qm) {
      this.requeued.shift();
      return;
    }
    this.pending.splice(this.pending.indexOf(qm), 1);
    this.pendingBytes -= messageBytes(qm.message);
  }

  shift(): QueuedMessage | undefined {
    const r = this.requeued.shift();
    if (r !== undefined) return r;
    const p = this.maxPriority === undefined ? this.pending.shift() : this.shiftByPriority(this.maxPriority);
    if (p !== undefined) this.pendingBytes -= messageBytes(p.message);
    return p;
  }

  /** The first of the highest-priority pending messages (within the loaded window only). */
  private shiftByPriority(max: number): QueuedMessage | undefined {
    let best = -1;
    let at = -1;
    for (let i = 0; i < this.pending.length; i++) {
      const p = Math.min((this.pending[i] as QueuedMessage).message.priority ?? 0, max);
      if (p > best) {
        best = p;
        at = i;
        if (p === max) break;
      }
    }
    return at < 0 ? undefined : this.pending.splice(at, 1)[0];
  }

  /** Empties the list, returning what it held. */
  clear(): QueuedMessage[] {
    const all = [...this.requeued, ...this.pending];
    this.requeued = [];
    this.pending = [];
    this.pendingBytes = 0;
    return all;
  }
}
