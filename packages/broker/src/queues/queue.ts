// One queue: its log, delivery cursor, requeued messages, consumers (round robin), settlement, TTL,
// max-length and dead-lettering. Invariant: each stored message is exactly one of: unread in the log,
// pending, delivered (unacked), requeued, or settled; memory holds pending (bounded) and unacked only.
// What must survive a restart besides the messages (settlement, how far messages were handed out, requeue
// counts under x-delivery-limit) is kept by SettleState in the ack log, and applied when read back.

import { BrokerError, type Clock, LIMITS, type Logger, type TimerHandle } from "../lib/index.ts";
import type { Log } from "../log/index.ts";
import { AppendBatcher } from "./append-batcher.ts";
import type { QueueConsumer } from "./consumer.ts";
import type { Message, QueuedMessage } from "./message.ts";
import { type QueueCounters, queueCounters } from "./message-stats.ts";
import { PriorityBacklog } from "./priority-backlog.ts";
import type { DeathReason, QueuePolicy } from "./queue-policy.ts";
import { type LostRange, readFacts, readMessages } from "./queue-reader.ts";
import { type PendingBudget, ReadyList } from "./ready-list.ts";
import type { SettleState } from "./settle-state.ts";

const STORED: Promise<void> = Promise.resolve();
/** how far one queue reads ahead of its log into memory (within the broker-wide PendingBudget): enough
 *  that a consumer falling behind a fast publisher for a second is still served from memory */
const PENDING_BYTES_MAX = LIMITS.queueReadAheadBytesMax;
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

/** What went wrong under a queue without a client to tell: a later /metrics reads these. */
export interface QueueFaults {
  /** messages skipped because the log found them damaged */
  lostMessages: number;
  /** reads from the log that failed (the read is tried again on the next delivery attempt) */
  readErrors: number;
  /** trims of settled segments that failed (tried again after the next settles) */
  trimErrors: number;
}

/** Where routing puts a message: a queue, or the held messages of an x-delayed-message exchange. */
export interface EnqueueTarget {
  readonly name: string;
  enqueue(message: Message): EnqueueResult;
}

export class Queue {
  private readonly ready: ReadyList;
  private nextReadOffset: number;
  /** settled offsets at or above nextReadOffset, known after a restart */
  private settledAhead: number;
  private loading: Promise<void> | null = null;
  private readonly appender: AppendBatcher;
  private readonly consumers: QueueConsumer[] = [];
  private rr = 0;
  private draining = false;
  private trimmedAt: number;
  /** body bytes of ready messages, also of those still only in the log */
  private readyBytes = 0;
  /** handed out with an ack to come (acked, rejected or requeued later), and their body bytes */
  private unacked = 0;
  private unackedBytes = 0;
  /** unsettled offsets at or above nextReadOffset whose message the restart dropped (transient ones) */
  private lostAhead = 0;
  /** offsets at or above nextReadOffset that a move took out of delivery (claim) and has not settled */
  private readonly claimedAhead = new Set<number>();
  /** set when recovered from disk: transient messages below it were lost with the restart */
  private recoveredEnd = 0;
  /** messages below it read back from the log may have been delivered before the restart */
  private readonly deliveredBefore: number;
  private expiryTimer: TimerHandle | undefined;
  private expiryAt = Number.POSITIVE_INFINITY;
  deleted = false;
  /** a consumer holds it with basic.consume exclusive */
  exclusiveConsumer = false;
  hadConsumer = false;
  /** set by the vhost: where dead-lettered messages go */
  deadLetter: (qm: QueuedMessage, reason: DeathReason) => void = () => undefined;
  private readonly closers: (() => Promise<void>)[] = [];
  /** x-max-priority queues: the ready messages still only in the log, by priority */
  private readonly backlog: PriorityBacklog | null;
  readonly faults: QueueFaults = { lostMessages: 0, readErrors: 0, trimErrors: 0 };
  /** what the management API reports as this queue's message_stats */
  readonly stats: QueueCounters = queueCounters();

  constructor(
    readonly opts: QueueOptions,
    readonly policy: QueuePolicy,
    private readonly log: Log,
    private readonly settle: SettleState,
    private readonly clock: Clock,
    private readonly budget: PendingBudget,
    recovered: boolean,
    private readonly logger: Logger,
  ) {
    this.nextReadOffset = settle.lowWater;
    this.trimmedAt = settle.lowWater;
    this.settledAhead = settle.countFrom(settle.lowWater);
    this.deliveredBefore = settle.deliveredEnd;
    if (recovered) this.recoveredEnd = log.endOffset;
    this.appender = new AppendBatcher(
      log,
      () => this.startLoad(),
      (offset) => settle.isSettled(offset),
    );
    this.ready = new ReadyList(policy.maxPriority, budget);
    this.backlog = policy.maxPriority === undefined ? null : new PriorityBacklog(policy.maxPriority);
  }

  /**
   * After a restart, before the queue is used: reads the recovered log through once, so that counts and
   * bytes are exact (the transient messages the restart dropped are not counted; the bytes of the others
   * are) and a priority queue knows which priorities wait in the log.
   */
  async recover(): Promise<void> {
    for (let from = this.nextReadOffset; from < this.recoveredEnd; ) {
      const read = await readFacts(this.log, from, LIMITS.queueRecoverReadBytes);
      for (const m of read.items) {
        if (m.offset >= this.recoveredEnd || this.settle.isSettled(m.offset)) continue;
        if (!m.persistent) this.lostAhead++;
        else {
          this.readyBytes += m.bodyBytes;
          this.backlog?.left(m.offset, m);
        }
      }
      if (read.nextOffset <= from) break;
      from = read.nextOffset;
    }
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
    const ahead = this.backlog?.ahead.size ?? 0;
    const unread =
      this.appender.end -
      this.nextReadOffset -
      this.settledAhead -
      ahead -
      this.lostAhead -
      this.claimedAhead.size;
    return this.ready.length + Math.max(0, unread);
  }

  get consumerCount(): number {
    return this.consumers.length;
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
    if (this.loading === null && qm.offset === this.nextReadOffset && this.hasRoomAhead()) {
      this.ready.pushPending(qm);
      this.nextReadOffset = qm.offset + 1;
    } else this.backlog?.left(qm.offset, qm.message);
    this.drain();
  }

  private hasRoomAhead(): boolean {
    return this.ready.pendingBytes < PENDING_BYTES_MAX && !this.budget.full;
  }

  addConsumer(c: QueueConsumer): void {
    this.consumers.push(c);
    this.hadConsumer = true;
    this.drain();
  }

  /** Returns true when that was the last consumer. */
  removeConsumer(c: QueueConsumer): boolean {
    const i = this.consumers.indexOf(c);
    if (i >= 0) this.consumers.splice(i, 1);
    return this.consumers.length === 0;
  }

  /** Delivers while there are ready messages and ready consumers. Safe to call at any time. */
  drain(): void {
    if (this.draining || this.deleted) return;
    this.draining = true;
    let delivered = false;
    try {
      while (this.consumers.length > 0) {
        const c = this.nextReadyConsumer();
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
    // read on before the window runs dry: a consumer held to its prefetch waits on every read it needs
    if (this.ready.pendingBytes < PENDING_BYTES_MAX / 2) this.startLoad();
  }

  private nextReadyConsumer(): QueueConsumer | undefined {
    if (this.policy.singleActiveConsumer) {
      const active = this.consumers[0];
      return active?.ready() ? active : undefined;
    }
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) {
      const c = this.consumers[(this.rr + i) % n] as QueueConsumer;
      if (c.ready()) {
        this.rr = (this.rr + i + 1) % n;
        return c;
      }
    }
    return undefined;
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
      if (this.behindLane() >= 0) {
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
      if (this.nextReadOffset >= this.appender.end || this.deleted) return null;
      if (this.loadFrom() >= this.log.endOffset) {
        await this.appender.lastStored;
        // still not in the log: its batch waits for disk space
        if (this.loadFrom() >= this.log.endOffset) return null;
      }
      await this.load();
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
    await this.loading;
    const n = this.messageCount;
    for (const qm of this.ready.clear()) this.settleOffset(qm.offset);
    // messages taken ahead of the read cursor were settled with the ready ones, or are delivered and unacked
    for (let o = this.nextReadOffset; o < this.appender.end; o++)
      if (this.backlog?.ahead.has(o) !== true) this.settleOffset(o);
    this.backlog?.clear();
    this.claimedAhead.clear();
    this.readyBytes = 0;
    this.nextReadOffset = this.appender.end;
    this.settledAhead = 0;
    this.lostAhead = 0;
    return n;
  }

  /** x-overflow drop-head: dead-letters the oldest ready messages until the queue fits its limits. */
  private dropHeadWhileOver(): void {
    while (this.overLimit()) {
      // the head is what would be delivered next: a higher priority waiting in the log comes first
      const qm = this.behindLane() < 0 ? this.shiftHead() : undefined;
      if (qm === undefined) {
        // the rest is in the log: read it, or wait until what is to be read is written (a read from
        // the end finds nothing, resolves at once and would be started again forever, in microtasks)
        const next =
          this.loadFrom() < this.log.endOffset
            ? this.load()
            : this.log.endOffset < this.appender.end
              ? this.appender.lastStored
              : null;
        next?.then(
          () => this.dropHeadWhileOver(),
          (e: unknown) => this.readFailed(e),
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
        this.armExpiry(at);
        return;
      }
      this.ready.remove(qm);
      this.readyBytes -= qm.message.body.length;
      this.discard(qm, "expired");
    }
    // only where a read finds something: one from the end resolves at once, and this would start it
    // again forever, in microtasks (what is not written yet is read when its append is stored)
    if (
      this.policy.messageTtlMs !== undefined &&
      this.loading === null &&
      this.loadFrom() < this.log.endOffset
    ) {
      this.load().then(
        () => this.expireHead(),
        (e: unknown) => this.readFailed(e),
      );
    }
  }

  private armExpiry(at: number): void {
    if (at === Number.POSITIVE_INFINITY || (this.expiryTimer !== undefined && this.expiryAt <= at)) return;
    this.clock.clearTimer(this.expiryTimer);
    this.expiryAt = at;
    this.expiryTimer = this.clock.setTimer(Math.max(0, at - this.clock.nowMs()) + 1, () => {
      this.expiryTimer = undefined;
      this.expiryAt = Number.POSITIVE_INFINITY;
      if (!this.deleted) this.expireHead();
    });
  }

  private settleOffset(offset: number): void {
    if (offset < 0) return;
    this.settle.settle(offset);
    // not past the read cursor: settles ahead of it (a move, priority lanes) leave what it reads next
    const low = Math.min(this.settle.lowWater, this.nextReadOffset, this.log.endOffset);
    if (low - this.trimmedAt >= TRIM_EVERY) {
      this.trimmedAt = low;
      this.log.deleteRecordsBefore(low).catch((e: unknown) => {
        this.faults.trimErrors++;
        this.logger.error(
          { queue: this.name, err: e, trimErrors: this.faults.trimErrors },
          `queue ${this.name}: deleting settled segments failed; tried again after ${TRIM_EVERY} more settles`,
        );
      });
    }
  }

  private startLoad(): void {
    if (this.loading !== null || this.loadFrom() >= this.log.endOffset) return;
    // a priority read goes past a full window, by one read at most: its lane is empty in memory
    if (!this.hasRoomAhead() && this.behindLane() < 0) return;
    this.load().then(
      () => {
        this.drain();
        this.expireHead();
      },
      (e: unknown) => this.readFailed(e),
    );
  }

  /** A read from the log failed (an I/O error: damage is skipped by the log): said, counted, and tried
   *  again on the next delivery attempt. */
  private readFailed(e: unknown): void {
    this.faults.readErrors++;
    this.logger.error(
      { queue: this.name, err: e, readErrors: this.faults.readErrors },
      `queue ${this.name}: reading messages from its log failed; retried on the next delivery attempt`,
    );
  }

  /** Offsets the log skipped as damaged: their messages are gone; the unsettled ones are counted as lost
   *  and settled, so that the queue's count and its trims move on past them. */
  private lost(range: LostRange): void {
    let n = 0;
    for (let o = range.from; o < range.to; o++) {
      if (this.claimedAhead.delete(o) || this.backlog?.ahead.delete(o) === true) continue;
      if (this.settle.isSettled(o)) this.settledAhead = Math.max(0, this.settledAhead - 1);
      else {
        this.settleOffset(o);
        n++;
      }
    }
    if (n === 0) return;
    this.faults.lostMessages += n;
    this.logger.error(
      {
        queue: this.name,
        fromOffset: range.from,
        toOffset: range.to,
        lost: n,
        lostMessages: this.faults.lostMessages,
      },
      `queue ${this.name} lost ${n} messages (offsets ${range.from} to ${range.to - 1}) to damage in its log; delivery goes on after them`,
    );
  }

  /** A priority lane that must be read from the log before anything in memory is delivered, or -1: its
   *  messages outrank every ready one. */
  private behindLane(): number {
    if (this.backlog === null) return -1;
    const lane = this.backlog.highestUnread();
    return lane > this.ready.highestReady() ? lane : -1;
  }

  /** Where the next read from the log starts. */
  private loadFrom(): number {
    const lane = this.behindLane();
    return lane < 0
      ? this.nextReadOffset
      : (this.backlog as PriorityBacklog).fetchFrom(lane, this.nextReadOffset);
  }

  /** Reads from the log into pending: the messages of a priority lane that outranks memory, or the next
   *  chunk, skipping settled and lost transient messages. */
  private load(): Promise<void> {
    this.loading ??= this.readNext().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private readNext(): Promise<void> {
    const lane = this.behindLane();
    // where the lane's messages may start at the cursor and the window has room, the next chunk serves
    // (each offset read once); otherwise the lane is read on its own, ahead of the cursor
    if (lane < 0 || (this.loadFrom() === this.nextReadOffset && this.hasRoomAhead())) return this.readChunk();
    return this.readLane(lane);
  }

  private async readChunk(): Promise<void> {
    const from = this.nextReadOffset;
    const read = await readMessages(this.log, from, LIMITS.queueReadBytes);
    if (this.nextReadOffset !== from) return;
    if (read.lost) this.lost(read.lost);
    for (const { offset, message, timestampMs } of read.items) {
      if (this.claimedAhead.delete(offset) || this.backlog?.ahead.delete(offset) === true) continue;
      if (this.settle.isSettled(offset)) this.settledAhead = Math.max(0, this.settledAhead - 1);
      else if (message === null || this.lostInRestart(offset, message)) {
        if (offset < this.recoveredEnd) this.lostAhead = Math.max(0, this.lostAhead - 1);
        this.settleOffset(offset);
      } else {
        this.backlog?.fetched(message);
        this.admit(offset, message, timestampMs);
      }
    }
    this.nextReadOffset = read.nextOffset;
  }

  /** Reads `lane`'s messages from where they wait in the log, ahead of the cursor. */
  private async readLane(lane: number): Promise<void> {
    const usable = (offset: number, m: Message | null): m is Message =>
      m !== null &&
      !this.settle.isSettled(offset) &&
      !this.lostInRestart(offset, m) &&
      !this.claimedAhead.has(offset);
    const b = this.backlog as PriorityBacklog;
    const taken = await b.readLane(this.log, lane, this.nextReadOffset, () => this.appender.end, usable);
    for (const { offset, message, timestampMs } of taken) this.admit(offset, message, timestampMs);
  }

  /** A transient message read back from before the restart: it did not survive it. */
  private lostInRestart(offset: number, message: Message): boolean {
    return offset < this.recoveredEnd && !message.persistent;
  }

  /** A message read from the log joins the pending ones. */
  private admit(offset: number, message: Message, timestampMs: number): void {
    this.ready.pushPending(this.queued(offset, message, timestampMs));
  }

  /** A message read from the log, with what the ack log knows of it. */
  private queued(offset: number, message: Message, timestampMs: number): QueuedMessage {
    const requeues = this.settle.requeuesOf(offset);
    const redelivered = offset < this.deliveredBefore || requeues > 0;
    return { offset, message, enqueuedMs: timestampMs, redelivered, requeues };
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
    if (this.settle.isSettled(offset) || this.lostInRestart(offset, message)) return null;
    const qm = this.inLog(offset)
      ? this.claimedAhead.has(offset)
        ? undefined
        : this.queued(offset, message, 0)
      : this.ready.find(offset, message.priority);
    return { ready: qm !== undefined, redelivered: qm?.redelivered ?? true };
  }

  /** Takes the ready message stored at `offset` out of delivery for a move: no consumer gets it until the
   *  move settles it (settleMoved) or gives it back (unclaim). Null when it is not ready now. */
  claim(offset: number, message: Message, timestampMs: number): QueuedMessage | null {
    if (this.deleted || this.settle.isSettled(offset) || this.lostInRestart(offset, message)) return null;
    // past its TTL: it is not moved (and goes once it reaches the head)
    if (this.expiresAt(this.queued(offset, message, timestampMs)) <= this.clock.nowMs()) return null;
    let qm: QueuedMessage | undefined;
    if (!this.inLog(offset)) qm = this.ready.take(offset, message.priority);
    else if (!this.claimedAhead.has(offset)) {
      this.claimedAhead.add(offset);
      this.backlog?.fetched(message);
      qm = this.queued(offset, message, timestampMs);
      this.passCursor();
    }
    if (qm === undefined) return null;
    this.readyBytes -= qm.message.body.length;
    this.expireHead(); // the head may have changed, as after a delivery
    return qm;
  }

  /** A claimed message is stored in its destination: it leaves this queue. */
  settleMoved(qm: QueuedMessage): void {
    if (this.claimedAhead.delete(qm.offset)) this.settledAhead++; // the cursor steps over it
    this.settleOffset(qm.offset);
    this.passCursor();
  }

  /** A claimed message goes back where it was (its move failed). */
  unclaim(qm: QueuedMessage): void {
    if (this.deleted || this.settle.isSettled(qm.offset)) return; // purged meanwhile
    this.readyBytes += qm.message.body.length;
    if (this.claimedAhead.delete(qm.offset)) this.backlog?.left(qm.offset, qm.message);
    else this.ready.giveBack(qm);
    this.drain();
    this.expireHead();
  }

  /** At or above the read cursor and not taken into memory ahead of it: the message is only in the log. */
  private inLog(offset: number): boolean {
    return offset >= this.nextReadOffset && this.backlog?.ahead.has(offset) !== true;
  }

  /** Moves the read cursor over what it would only step over (settled, claimed, taken ahead), so a move
   *  leaves no state per offset behind it. Not during a read: that read starts at the cursor it saw. */
  private passCursor(): void {
    if (this.loading !== null) return;
    for (let o = this.nextReadOffset; o < this.appender.end; o = ++this.nextReadOffset) {
      if (this.claimedAhead.delete(o) || this.backlog?.ahead.delete(o) === true) continue;
      if (!this.settle.isSettled(o)) return;
      this.settledAhead = Math.max(0, this.settledAhead - 1);
    }
  }

  /** After a restart, once dead-lettering is wired: reads the head of the log in, so that expired messages
   *  at the head go and the TTL timer is armed, as RabbitMQ does when it recovers a queue (they waited,
   *  counted, until the queue was next used). */
  recovered(): void {
    // a read started by enforceLimits() does not look at TTL: look once it is done (its failure is
    // reported by enforceLimits). That read may have been a priority lane's, leaving the head in the log:
    // read on too, since only a message read in shows its per-message TTL.
    if (this.loading === null) this.expireHead();
    if (this.loading !== null) {
      // a lane's read (a higher priority waits in the log) leaves the oldest heads, which TTL expires
      // first, still there: look again once it is done
      this.loading.then(
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
    this.clock.clearTimer(this.expiryTimer);
    const cs = this.consumers.splice(0);
    for (const c of cs) c.cancelledByQueue();
    this.ready.clear();
  }

  async close(): Promise<void> {
    this.clock.clearTimer(this.expiryTimer);
    this.appender.flush();
    this.appender.abandon(
      new BrokerError("LOG_CLOSED", `queue '${this.name}' closed before the disk had room`),
    );
    await this.appender.lastStored;
    await this.loading?.catch(() => undefined); // its failure went to whoever asked for the read
    await this.settle.drain();
    await this.log.close();
    for (const c of this.closers) await c();
  }

  /** Runs after the queue's log is closed (the store closes the ack log here). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }
}
