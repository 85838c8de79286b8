// The ready messages a queue holds in memory: requeued ones (by offset) ahead of pending ones (log order,
// or by priority under x-max-priority: one FIFO lane per priority, as RabbitMQ keeps them).
// Invariant: pendingBytes is the sum of messageBytes over pending (and counts in the shared budget);
// each lane is in offset order.

import { Fifo } from "../lib/index.ts";
import { messageBytes, type QueuedMessage } from "./message.ts";

/** Pending bytes across every queue of the broker: a queue reads ahead of its log only while it fits. */
export class PendingBudget {
  bytes = 0;
  constructor(readonly maxBytes: number) {}
  get full(): boolean {
    return this.bytes >= this.maxBytes;
  }
}

export class ReadyList {
  private requeued: QueuedMessage[] = [];
  /** lanes[p] holds pending messages of priority p (one lane without x-max-priority) */
  private readonly lanes: Fifo<QueuedMessage>[];
  private pendingN = 0;
  pendingBytes = 0;

  constructor(
    private readonly maxPriority: number | undefined,
    private readonly budget: PendingBudget,
  ) {
    this.lanes = Array.from({ length: (maxPriority ?? 0) + 1 }, () => new Fifo<QueuedMessage>());
  }

  get length(): number {
    return this.requeued.length + this.pendingN;
  }

  get hasRequeued(): boolean {
    return this.requeued.length > 0;
  }

  /** The highest priority lane holding a pending message, or -1. */
  highestPending(): number {
    if (this.pendingN === 0) return -1;
    let p = this.lanes.length - 1;
    while (p > 0 && (this.lanes[p] as Fifo<QueuedMessage>).length === 0) p--;
    return p;
  }

  private laneOf(qm: QueuedMessage): Fifo<QueuedMessage> {
    if (this.maxPriority === undefined) return this.lanes[0] as Fifo<QueuedMessage>;
    return this.lanes[Math.min(qm.message.priority, this.maxPriority)] as Fifo<QueuedMessage>;
  }

  pushPending(qm: QueuedMessage): void {
    this.laneOf(qm).push(qm);
    this.pendingN++;
    this.addPendingBytes(messageBytes(qm.message));
  }

  /** Back at its place among the requeued, by offset. */
  requeue(qm: QueuedMessage): void {
    let i = this.requeued.length;
    while (i > 0 && (this.requeued[i - 1] as QueuedMessage).offset > qm.offset) i--;
    this.requeued.splice(i, 0, qm);
  }

  /** The message shift() would return next when priorities are off; the oldest otherwise. */
  peek(): QueuedMessage | undefined {
    const r = this.requeued[0];
    if (r !== undefined) return r;
    let oldest: QueuedMessage | undefined;
    for (const lane of this.lanes) {
      const head = lane.peek();
      if (head !== undefined && (oldest === undefined || head.offset < oldest.offset)) oldest = head;
    }
    return oldest;
  }

  /** Removes a message that peek() returned. */
  remove(qm: QueuedMessage): void {
    if (this.requeued[0] === qm) {
      this.requeued.shift();
      return;
    }
    this.laneOf(qm).shift();
    this.pendingN--;
    this.addPendingBytes(-messageBytes(qm.message));
  }

  /** The next message to deliver: requeued first, then the oldest of the highest priority. */
  shift(): QueuedMessage | undefined {
    const r = this.requeued.shift();
    if (r !== undefined) return r;
    for (let p = this.lanes.length - 1; p >= 0; p--) {
      const qm = (this.lanes[p] as Fifo<QueuedMessage>).shift();
      if (qm === undefined) continue;
      this.pendingN--;
      this.addPendingBytes(-messageBytes(qm.message));
      return qm;
    }
    return undefined;
  }

  private addPendingBytes(n: number): void {
    this.pendingBytes += n;
    this.budget.bytes += n;
  }

  /** Empties the list, returning what it held. */
  clear(): QueuedMessage[] {
    const all = this.requeued;
    for (const lane of this.lanes) all.push(...lane.clear());
    this.requeued = [];
    this.pendingN = 0;
    this.addPendingBytes(-this.pendingBytes);
    return all;
  }
}
