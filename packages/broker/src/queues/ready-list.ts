// The ready messages a queue holds in memory, in one lane per priority under x-max-priority (as RabbitMQ
// keeps a sub-queue per priority), else one lane: in each, requeued ones (by offset) ahead of pending ones.
// Invariant: pendingBytes is the sum of messageBytes over pending (and counts in the shared budget);
// each lane is in offset order. A message taken out for a move (take) stays in its pending lane, uncounted,
// until it reaches the lane's head, where it is dropped: no lane's head is ever a taken one.

import { Fifo, type MemoryAccount } from "../lib/index.ts";
import { messageBytes, priorityLane, type QueuedMessage } from "./message.ts";

/** Pending bytes across every queue of the broker: a queue reads ahead of its log only while it fits. */
export class PendingBudget {
  bytes = 0;
  constructor(
    readonly maxBytes: number,
    /** where the memory alarm sees these bytes */
    private readonly memory?: MemoryAccount,
  ) {}
  get full(): boolean {
    return this.bytes >= this.maxBytes;
  }
  add(n: number): void {
    this.bytes += n;
    this.memory?.add("queueWindows", n);
  }
  /** requeued messages: held in memory, but not read ahead, so outside the budget */
  addRequeued(n: number): void {
    this.memory?.add("queueRequeued", n);
  }
}

export class ReadyList {
  /** lanes[p]: ready messages of priority p (one lane without x-max-priority) */
  private readonly lanes: Lane[];
  private requeuedN = 0;
  private pendingN = 0;
  pendingBytes = 0;
  /** offsets taken out for a move that are still in a pending lane (removing from a lane's middle at once
   *  would cost the lane's length) */
  private readonly taken = new Set<number>();

  constructor(
    private readonly maxPriority: number | undefined,
    private readonly budget: PendingBudget,
  ) {
    this.lanes = Array.from({ length: (maxPriority ?? 0) + 1 }, () => ({
      requeued: [],
      pending: new Fifo<QueuedMessage>(),
    }));
  }

  get length(): number {
    return this.requeuedN + this.pendingN;
  }

  /** The highest priority with a ready message, or -1. */
  highestReady(): number {
    if (this.length === 0) return -1;
    let p = this.lanes.length - 1;
    while (p > 0 && laneLength(this.dropTaken(this.lanes[p] as Lane)) === 0) p--;
    return p;
  }

  /** Drops taken messages off the head of `lane`'s pending ones. */
  private dropTaken(lane: Lane): Lane {
    while (this.taken.size > 0) {
      const head = lane.pending.peek();
      if (head === undefined || !this.taken.delete(head.offset)) break;
      lane.pending.shift();
    }
    return lane;
  }

  /** The ready message at `offset` in memory (priority: the message's), if there is one. */
  find(offset: number, priority: number): QueuedMessage | undefined {
    const lane = this.lanes[priorityLane({ priority }, this.maxPriority)] as Lane;
    const requeued = lane.requeued.find((qm) => qm.offset === offset);
    if (requeued !== undefined) return requeued;
    // the lane is in offset order: binary search
    let lo = 0;
    let hi = lane.pending.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const qm = lane.pending.at(mid) as QueuedMessage;
      if (qm.offset === offset) return this.taken.has(offset) ? undefined : qm;
      if (qm.offset < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Takes the ready message at `offset` out (a move): it no longer counts and is never shifted. */
  take(offset: number, priority: number): QueuedMessage | undefined {
    const qm = this.find(offset, priority);
    if (qm === undefined) return undefined;
    const lane = this.laneOf(qm);
    const i = lane.requeued.indexOf(qm);
    if (i >= 0) {
      lane.requeued.splice(i, 1);
      this.requeuedN--;
      this.budget.addRequeued(-messageBytes(qm.message));
      return qm;
    }
    this.taken.add(offset);
    this.pendingN--;
    this.addPendingBytes(-messageBytes(qm.message));
    this.dropTaken(lane);
    return qm;
  }

  /** Gives back a message take() returned: at its place if it is still in its lane, else as a requeued
   *  one (ahead of the pending ones, by offset). */
  giveBack(qm: QueuedMessage): void {
    if (!this.taken.delete(qm.offset)) {
      this.requeue(qm);
      return;
    }
    this.pendingN++;
    this.addPendingBytes(messageBytes(qm.message));
  }

  private laneOf(qm: QueuedMessage): Lane {
    return this.lanes[priorityLane(qm.message, this.maxPriority)] as Lane;
  }

  pushPending(qm: QueuedMessage): void {
    this.laneOf(qm).pending.push(qm);
    this.pendingN++;
    this.addPendingBytes(messageBytes(qm.message));
  }

  /** Back at its place in its priority, by offset, ahead of the messages not yet delivered (as RabbitMQ
   *  puts a requeued message back into the sub-queue of its priority). */
  requeue(qm: QueuedMessage): void {
    const requeued = this.laneOf(qm).requeued;
    let i = requeued.length;
    while (i > 0 && (requeued[i - 1] as QueuedMessage).offset > qm.offset) i--;
    requeued.splice(i, 0, qm);
    this.requeuedN++;
    this.budget.addRequeued(messageBytes(qm.message));
  }

  /** The oldest ready message (the head that TTL expires). */
  peek(): QueuedMessage | undefined {
    let oldest: QueuedMessage | undefined;
    for (const lane of this.lanes) {
      const head = lane.requeued[0] ?? this.dropTaken(lane).pending.peek();
      if (head !== undefined && (oldest === undefined || head.offset < oldest.offset)) oldest = head;
    }
    return oldest;
  }

  /** Removes a message that peek() returned. */
  remove(qm: QueuedMessage): void {
    const lane = this.laneOf(qm);
    if (lane.requeued[0] === qm) {
      lane.requeued.shift();
      this.requeuedN--;
      this.budget.addRequeued(-messageBytes(qm.message));
      return;
    }
    lane.pending.shift();
    this.pendingN--;
    this.addPendingBytes(-messageBytes(qm.message));
  }

  /** The next message to deliver: the highest priority first; within it, requeued ones, then by offset. */
  shift(): QueuedMessage | undefined {
    for (let p = this.lanes.length - 1; p >= 0; p--) {
      const lane = this.lanes[p] as Lane;
      const r = lane.requeued.shift();
      if (r !== undefined) {
        this.requeuedN--;
        this.budget.addRequeued(-messageBytes(r.message));
        return r;
      }
      const qm = this.dropTaken(lane).pending.shift();
      if (qm === undefined) continue;
      this.pendingN--;
      this.addPendingBytes(-messageBytes(qm.message));
      return qm;
    }
    return undefined;
  }

  private addPendingBytes(n: number): void {
    this.pendingBytes += n;
    this.budget.add(n);
  }

  /** Empties the list, returning what it held. */
  clear(): QueuedMessage[] {
    const all: QueuedMessage[] = [];
    for (const lane of this.lanes) {
      const requeued = lane.requeued.splice(0);
      for (const qm of requeued) this.budget.addRequeued(-messageBytes(qm.message));
      all.push(...requeued);
      for (const qm of lane.pending.clear()) if (!this.taken.has(qm.offset)) all.push(qm);
    }
    this.taken.clear();
    this.requeuedN = 0;
    this.pendingN = 0;
    this.addPendingBytes(-this.pendingBytes);
    return all;
  }
}

interface Lane {
  /** delivered and put back, by offset: they go before the pending ones */
  readonly requeued: QueuedMessage[];
  /** read from the log (or enqueued) and not yet delivered, by offset */
  readonly pending: Fifo<QueuedMessage>;
}

function laneLength(lane: Lane): number {
  return lane.requeued.length + lane.pending.length;
}
