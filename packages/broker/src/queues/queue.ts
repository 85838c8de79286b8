// One queue: enqueue, delivery to its consumers, settlement, requeue, TTL, max-length and dead-lettering,
// over its log (read through ReadCursor, read-cursor.ts). Invariant: each stored message is exactly one of: unread in the log,
// pending, delivered (unacked), requeued, or settled; memory holds pending (bounded) and unacked only.
// What must survive a restart besides the messages (settlement, how far messages were handed out, requeue
// counts under x-delivery-limit) is kept by SettleState in the ack log, and applied when read back.

import { BrokerError, type Clock, type Logger } from "../lib/index.ts";
import type { Log } from "../log/index.ts";
import { AppendBatcher } from "./append-batcher.ts";
import type { QueueConsumer } from "./consumer.ts";
import { ConsumerRing } from "./consumer-ring.ts";
import { ExpiryTimer } from "./expiry-timer.ts";
import type { Message, QueuedMessage } from "./message.ts";
import { type QueueCounters, queueCounters } from "./message-stats.ts";
import { FaultReporter, type QueueFaults } from "./queue-faults.ts";
import type { DeathReason, QueuePolicy } from "./queue-policy.ts";
import { readMessages } from "./queue-reader.ts";
import { type CursorHost, ReadCursor } from "./read-cursor.ts";
import { type PendingBudget, ReadyList } from "./ready-list.ts";
import type { SettleState } from "./settle-state.ts";

const STORED: Promise<void> = Promise.resolve();
/** trim the log (whole segments) after this many settled messages */
const TRIM_EVERY = 10_000;

export interface QueueOptions {
  readonly name: string;
  readonly durable: boolean;
  readonly exclusiveOwner: string | null;
  readonly autoDelete: boolean;
  readonly args: Readonly<Record<string, unknown>>;
}

/** An enqueue refused by x-overflow reject-publish. */
export const REJECTED = Symbol("rejected by x-overflow");

/** What an enqueue came to: a promise that resolves once stored (under the fsync policy), or REJECTED. */
export type EnqueueResult = Promise<void> | typeof REJECTED;

/** Where routing puts a message: a queue, or the held messages of an x-delayed-message exchange. */
export interface EnqueueTarget {
  readonly name: string;
  enqueue(message: Message): EnqueueResult;
}

export class Queue {
  private readonly ready: ReadyList;
  private readonly cursor: ReadCursor;
  private readonly appender: AppendBatcher;
  private readonly consumers: ConsumerRing;
  private draining = false;
  private trimmedAt: number;
  /** body bytes of ready messages, also of those still only in the log */
  private readyBytes = 0;
  /** handed out with an ack to come (acked, rejected or requeued later), and their body bytes */
  private unacked = 0;
  private unackedBytes = 0;
  private readonly expiry: ExpiryTimer;
  deleted = false;
  /** a consumer holds it with basic.consume exclusive */
  exclusiveConsumer = false;
  hadConsumer = false;
  /** set by the vhost: where dead-lettered messages go */
  deadLetter: (qm: QueuedMessage, reason: DeathReason) => void = () => undefined;
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly report: FaultReporter;
  /** what /metrics reports of what went wrong under this queue */
  get faults(): QueueFaults {
    return this.report.counts;
  }

  /** what the management API reports as this queue's message_stats */
  readonly stats: QueueCounters = queueCounters();

  constructor(
    readonly opts: QueueOptions,
    readonly policy: QueuePolicy,
    private readonly log: Log,
    private readonly settle: SettleState,
    private readonly clock: Clock,
    budget: PendingBudget,
    recovered: boolean,
    logger: Logger,
  ) {
    this.report = new FaultReporter(opts.name, logger);
    this.trimmedAt = settle.lowWater;
    this.expiry = new ExpiryTimer(clock, () => {
      if (!this.deleted) this.expireHead();
    });
    this.appender = new AppendBatcher(
      log,
      () => this.startLoad(),
      (offset) => settle.isSettled(offset),
    );
    this.consumers = new ConsumerRing(policy.singleActiveConsumer);
    this.ready = new ReadyList(policy.maxPriority, budget);
    const appender = this.appender;
    const host: CursorHost = {
      get end() {
        return appender.end;
      },
      settle: (offset) => this.settleOffset(offset),
      lost: (range, n) => this.report.lost(range, n),
    };
    this.cursor = new ReadCursor(log, settle, this.ready, budget, host, policy.maxPriority, recovered);
  }

  /**
   * After a restart, before the queue is used: reads the recovered log through once, so that counts and
   * bytes are exact (the transient messages the restart dropped are not counted; the bytes of the others
   * are) and a priority queue knows which priorities wait in the log.
   */
  async recover(): Promise<void> {
    this.readyBytes += await this.cursor.recover();
  }

  /** x-max-length(-bytes) with drop-head on what a restart recovered, as RabbitMQ applies it at start
   *  (once dead-lettering is wired). */
  enforceLimits(): void {
    if (this.policy.overflow === "drop-head") this.dropHeadWhileOver();
  }

  /** Bytes of the queue's log on disk, settled segments not yet trimmed included (for /metrics). */
  get logBytes(): number {
    return this.log.sizeBytes;
  }

  get name(): string {
    return this.opts.name;
  }

  /** Messages ready for delivery (not counting delivered-but-unacked ones). */
  get messageCount(): number {
    return this.ready.length + Math.max(0, this.cursor.unread());
  }

  get consumerCount(): number {
    return this.consumers.size;
  }

  /** What a delivery handed out with an ack to come must wait for before it is sent: the write of the
   *  ack log's delivered mark, so that a process that dies with it still counts it as delivered
   *  (redelivered after the restart). Undefined when nothing waits (transient queues, mark written). */
  get deliveryWritten(): Promise<void> | undefined {
    return this.settle.markWritten;
  }

  /** Delivered (consume or get with acks) and not yet acked, rejected or requeued. */
  get unackedCount(): number {
    return this.unacked;
  }

  /** Body bytes of the ready messages and of the unacked ones (the management API's message_bytes_*). */
  get bodyBytes(): { readonly ready: number; readonly unacked: number } {
    return { ready: this.readyBytes, unacked: this.unackedBytes };
  }

  /** Deliverable at once; `stored` resolves once the message is stored under the fsync policy. */
  enqueue(message: Message): EnqueueResult {
    if (this.deleted) return STORED;
    // the disk is full: refused (publishers get a nack), not kept in memory until it has room
    const refused = this.appender.refused;
    if (refused !== null) return refused;
    const bytes = message.body.length;
    if (this.policy.overflow !== "drop-head" && this.wouldOverflow(bytes)) {
      if (this.policy.overflow === "reject-publish-dlx") {
        this.deadLetter(
          { offset: -1, message, enqueuedMs: this.clock.nowMs(), redelivered: false, requeues: 0 },
          "maxlen",
        );
      }
      return REJECTED;
    }
    const now = this.clock.nowMs();
    const offset = this.appender.end;
    const stored = this.appender.add(message, now);
    this.readyBytes += bytes;
    this.stats.publish++;
    this.onAppended({ offset, message, enqueuedMs: now, redelivered: false, requeues: 0 });
    if (this.policy.overflow === "drop-head") this.dropHeadWhileOver();
    this.expireHead();
    return stored;
  }

  private wouldOverflow(extraBytes: number): boolean {
    const { maxLength, maxLengthBytes } = this.policy;
    if (maxLength !== undefined && this.messageCount + 1 > maxLength) return true;
    return maxLengthBytes !== undefined && this.readyBytes + extraBytes > maxLengthBytes;
  }

  private overLimit(): boolean {
    const { maxLength, maxLengthBytes } = this.policy;
    if (maxLength !== undefined && this.messageCount > maxLength) return true;
    return maxLengthBytes !== undefined && this.readyBytes > maxLengthBytes;
  }

  private onAppended(qm: QueuedMessage): void {
    this.cursor.appended(qm);
    this.drain();
  }

  addConsumer(c: QueueConsumer): void {
    this.consumers.add(c);
    this.hadConsumer = true;
    this.drain();
  }

  /** Returns true when that was the last consumer. */
  removeConsumer(c: QueueConsumer): boolean {
    return this.consumers.remove(c);
  }

  /** Delivers while there are ready messages and ready consumers. Safe to call at any time. */
  drain(): void {
    if (this.draining || this.deleted) return;
    this.draining = true;
    let delivered = false;
    try {
      while (this.consumers.size > 0) {
        const c = this.consumers.nextReady();
        if (c === undefined) break;
        const qm = this.take();
        if (qm === undefined) break;
        this.handOut(qm, c.noAck);
        c.deliver(qm);
        delivered = true;
      }
    } finally {
      this.draining = false;
    }
    if (delivered) this.expireHead();
    if (this.cursor.windowLow) this.startLoad();
  }

  /** Removes and returns the head, keeping readyBytes. */
  private shiftHead(): QueuedMessage | undefined {
    const qm = this.ready.shift();
    if (qm !== undefined) this.readyBytes -= qm.message.body.length;
    return qm;
  }

  /** The head message, dead-lettering expired ones on the way; none while a higher priority than any in
   *  memory waits in the log (a read for it is started). */
  private take(): QueuedMessage | undefined {
    for (;;) {
      if (this.cursor.behindLane() >= 0) {
        this.startLoad();
        return undefined;
      }
      const qm = this.shiftHead();
      if (qm === undefined || this.expiresAt(qm) > this.clock.nowMs()) return qm;
      this.discard(qm, "expired");
    }
  }

  private expiresAt(qm: QueuedMessage): number {
    const queueTtl = this.policy.messageTtlMs;
    const ttl = qm.message.expirationMs;
    if (queueTtl === undefined && ttl === undefined) return Number.POSITIVE_INFINITY;
    return qm.enqueuedMs + Math.min(queueTtl ?? Number.POSITIVE_INFINITY, ttl ?? Number.POSITIVE_INFINITY);
  }

  private handOut(qm: QueuedMessage, noAck: boolean): void {
    if (noAck) this.settleOffset(qm.offset);
    else {
      this.settle.delivered(qm.offset);
      this.unacked++;
      this.unackedBytes += qm.message.body.length;
    }
  }

  /** A delivery handed out with an ack to come was acked, rejected or requeued. */
  private answered(qm: QueuedMessage): void {
    this.unacked--;
    this.unackedBytes -= qm.message.body.length;
  }

  /** basic.get: the next ready message, loading from the log if needed; null when empty. */
  async get(noAck: boolean): Promise<QueuedMessage | null> {
    for (;;) {
      const qm = this.take();
      if (qm !== undefined) {
        this.handOut(qm, noAck);
        this.expireHead();
        return qm;
      }
      if (this.cursor.next >= this.appender.end || this.deleted) return null;
      if (!this.cursor.canRead) {
        await this.appender.lastStored;
        // still not in the log: its batch waits for disk space
        if (!this.cursor.canRead) return null;
      }
      await this.cursor.load();
    }
  }

  ack(qm: QueuedMessage): void {
    this.answered(qm);
    this.stats.ack++;
    this.settleOffset(qm.offset);
    this.drain();
  }

  /** reject/nack without requeue: settled, and dead-lettered when the queue has a DLX. */
  reject(qm: QueuedMessage): void {
    this.answered(qm);
    this.discard(qm, "rejected");
    this.drain();
  }

  private discard(qm: QueuedMessage, reason: DeathReason): void {
    this.settleOffset(qm.offset);
    if (!this.deleted) this.deadLetter(qm, reason);
  }

  /** Puts a delivered message back at its place in the queue, marked redelivered. */
  requeue(qm: QueuedMessage): void {
    this.answered(qm);
    if (this.deleted) return;
    qm.redelivered = true;
    qm.requeues++;
    const limit = this.policy.deliveryLimit;
    if (limit !== undefined) {
      if (qm.requeues > limit) {
        this.discard(qm, "delivery_limit");
        return;
      }
      this.settle.requeued(qm.offset, qm.requeues);
    }
    this.readyBytes += qm.message.body.length;
    this.ready.requeue(qm);
    // as RabbitMQ: a requeue can take the queue past x-max-length, and drop-head then drops the head
    if (this.policy.overflow === "drop-head") this.dropHeadWhileOver();
    this.expireHead();
  }

  /** Removes every ready message; returns how many. */
  async purge(): Promise<number> {
    await this.cursor.loading;
    const n = this.messageCount;
    for (const qm of this.ready.clear()) this.settleOffset(qm.offset);
    this.cursor.purge();
    this.readyBytes = 0;
    return n;
  }

  /** x-overflow drop-head: dead-letters the oldest ready messages until the queue fits its limits. */
  private dropHeadWhileOver(): void {
    while (this.overLimit()) {
      // the head is what would be delivered next: a higher priority waiting in the log comes first
      const qm = this.cursor.behindLane() < 0 ? this.shiftHead() : undefined;
      if (qm === undefined) {
        // the rest is in the log: read it, or wait until what is to be read is written (a read from
        // the end finds nothing, resolves at once and would be started again forever, in microtasks)
        const next = this.cursor.canRead
          ? this.cursor.load()
          : this.log.endOffset < this.appender.end
            ? this.appender.lastStored
            : null;
        next?.then(
          () => this.dropHeadWhileOver(),
          (e: unknown) => this.report.readFailed(e),
        );
        return;
      }
      this.discard(qm, "maxlen");
    }
  }

  /** Expires messages at the head (as RabbitMQ does) and arms a timer for the next head's expiry. Runs
   *  whenever the head may have changed to an earlier expiry: after an enqueue, a requeue and a delivery
   *  (a message with a shorter TTL behind the one delivered waited for the old head's timer). */
  private expireHead(): void {
    const now = this.clock.nowMs();
    for (let qm = this.ready.peek(); qm !== undefined; qm = this.ready.peek()) {
      const at = this.expiresAt(qm);
      if (at > now) {
        this.expiry.arm(at);
        return;
      }
      this.ready.remove(qm);
      this.readyBytes -= qm.message.body.length;
      this.discard(qm, "expired");
    }
    // only where a read finds something: one from the end resolves at once, and this would start it
    // again forever, in microtasks (what is not written yet is read when its append is stored)
    if (this.policy.messageTtlMs !== undefined && this.cursor.loading === null && this.cursor.canRead) {
      this.cursor.load().then(
        () => this.expireHead(),
        (e: unknown) => this.report.readFailed(e),
      );
    }
  }

  private settleOffset(offset: number): void {
    if (offset < 0) return;
    this.settle.settle(offset);
    // not past the read cursor: settles ahead of it (a move, priority lanes) leave what it reads next
    const low = Math.min(this.settle.lowWater, this.cursor.next, this.log.endOffset);
    if (low - this.trimmedAt >= TRIM_EVERY) {
      this.trimmedAt = low;
      this.log.deleteRecordsBefore(low).catch((e: unknown) => this.report.trimFailed(e, TRIM_EVERY));
    }
  }

  private startLoad(): void {
    if (!this.cursor.mayReadAhead) return;
    this.cursor.load().then(
      () => {
        this.drain();
        this.expireHead();
      },
      (e: unknown) => this.report.readFailed(e),
    );
  }

  // Peek and move (queue-peek.ts, queue-move.ts) read the log themselves; these say what a stored message
  // is to the queue now, and take it out for a move. None touches delivery state (`redelivered`).

  /** Stored messages from `from` on (from the log's start if that is later), as peek and move read them. */
  readStored(from: number, maxBytes: number): ReturnType<typeof readMessages> {
    return readMessages(this.log, Math.max(from, this.log.startOffset), maxBytes);
  }

  /** Where unsettled stored messages lie: from the first unsettled offset to the end of the log. */
  get storedRange(): { readonly from: number; readonly to: number } {
    return { from: this.settle.lowWater, to: this.log.endOffset };
  }

  /** The stored message at `offset` now: ready (with the `redelivered` its delivery would carry) or not
   *  (handed out, or being moved); null once settled. */
  inspect(offset: number, message: Message): { ready: boolean; redelivered: boolean } | null {
    if (this.gone(offset, message)) return null;
    const qm = this.cursor.inLog(offset)
      ? this.cursor.isClaimed(offset)
        ? undefined
        : this.cursor.queued(offset, message, 0)
      : this.ready.find(offset, message.priority);
    return { ready: qm !== undefined, redelivered: qm?.redelivered ?? true };
  }

  /** Takes the ready message stored at `offset` out of delivery for a move: no consumer gets it until the
   *  move settles it (settleMoved) or gives it back (unclaim). Null when it is not ready now. */
  claim(offset: number, message: Message, timestampMs: number): QueuedMessage | null {
    if (this.deleted || this.gone(offset, message)) return null;
    // past its TTL: it is not moved (and goes once it reaches the head)
    if (this.expiresAt(this.cursor.queued(offset, message, timestampMs)) <= this.clock.nowMs()) return null;
    const qm = this.cursor.inLog(offset)
      ? this.cursor.claim(offset, message, timestampMs)
      : this.ready.take(offset, message.priority);
    if (qm === undefined) return null;
    this.readyBytes -= qm.message.body.length;
    this.expireHead(); // the head may have changed, as after a delivery
    return qm;
  }

  /** A claimed message is stored in its destination: it leaves this queue. */
  settleMoved(qm: QueuedMessage): void {
    this.cursor.settleMoved(qm.offset);
  }

  /** A claimed message goes back where it was (its move failed). */
  unclaim(qm: QueuedMessage): void {
    if (this.deleted || this.settle.isSettled(qm.offset)) return; // purged meanwhile
    this.readyBytes += qm.message.body.length;
    this.cursor.unclaim(qm);
    this.drain();
    this.expireHead();
  }

  /** Settled, or a transient message the restart dropped: no longer the queue's. */
  private gone(offset: number, message: Message): boolean {
    return this.settle.isSettled(offset) || this.cursor.lostInRestart(offset, message);
  }

  /** After a restart, once dead-lettering is wired: reads the head of the log in, so that expired messages
   *  at the head go and the TTL timer is armed, as RabbitMQ does when it recovers a queue (they waited,
   *  counted, until the queue was next used). */
  recovered(): void {
    // a read started by enforceLimits() does not look at TTL: look once it is done (its failure is
    // reported by enforceLimits). That read may have been a priority lane's, leaving the head in the log:
    // read on too, since only a message read in shows its per-message TTL.
    if (this.cursor.loading === null) this.expireHead();
    if (this.cursor.loading !== null) {
      // a lane's read (a higher priority waits in the log) leaves the oldest heads, which TTL expires
      // first, still there: look again once it is done
      this.cursor.loading.then(
        () => this.recovered(),
        () => undefined,
      );
      return;
    }
    this.startLoad();
  }

  /** Detaches every consumer, telling each that the queue is gone. */
  markDeleted(): void {
    this.deleted = true;
    this.expiry.clear();
    for (const c of this.consumers.clear()) c.cancelledByQueue();
    this.ready.clear();
  }

  async close(): Promise<void> {
    this.expiry.clear();
    this.appender.flush();
    this.appender.abandon(
      new BrokerError("LOG_CLOSED", `queue '${this.name}' closed before the disk had room`),
    );
    await this.appender.lastStored;
    await this.cursor.loading?.catch(() => undefined); // its failure went to whoever asked for the read
    await this.settle.drain();
    await this.log.close();
    for (const c of this.closers) await c();
  }

  /** Runs after the queue's log is closed (the store closes the ack log here). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }
}
