// A queue's read cursor: where the next read from its log starts, what lies at or above it that the cursor
// will only step over (settled, lost in a restart, claimed by a move, taken ahead by a priority lane), and
// the reads that fill the ready window. Invariant: every unsettled offset at or above `next` is unread,
// lost, claimed or taken ahead, exactly one of them; `unread()` counts the first kind without a log read.

import { LIMITS } from "../lib/index.ts";
import type { Log } from "../log/index.ts";
import type { Message, QueuedMessage } from "./message.ts";
import { PriorityBacklog } from "./priority-backlog.ts";
import { type LostRange, readFacts, readMessages } from "./queue-reader.ts";
import type { PendingBudget, ReadyList } from "./ready-list.ts";
import type { SettleState } from "./settle-state.ts";

/** how far one queue reads ahead of its log into memory (within the broker-wide PendingBudget): enough
 *  that a consumer falling behind a fast publisher for a second is still served from memory */
const PENDING_BYTES_MAX = LIMITS.queueReadAheadBytesMax;

/** What the cursor asks of its queue. */
export interface CursorHost {
  /** the offset the next enqueue gets (appended, maybe not yet stored) */
  readonly end: number;
  /** settles one offset (and trims the log when due) */
  settle(offset: number): void;
  /** `count` unsettled messages in `range` were lost to damage in the log (already settled) */
  lost(range: LostRange, count: number): void;
}

export class ReadCursor {
  /** the next offset to read from the log */
  private nextOffset: number;
  /** settled offsets at or above the cursor, known after a restart */
  private settledAhead: number;
  /** unsettled offsets at or above the cursor whose message the restart dropped (transient ones) */
  private lostAhead = 0;
  /** offsets at or above the cursor that a move took out of delivery (claim) and has not settled */
  private readonly claimed = new Set<number>();
  /** set when recovered from disk: transient messages below it were lost with the restart */
  private readonly recoveredEnd: number;
  /** messages below it read back from the log may have been delivered before the restart */
  private readonly deliveredBefore: number;
  /** x-max-priority queues: the ready messages still only in the log, by priority */
  private readonly backlog: PriorityBacklog | null;
  /** the read under way, if any */
  loading: Promise<void> | null = null;

  constructor(
    private readonly log: Log,
    private readonly settle: SettleState,
    private readonly ready: ReadyList,
    private readonly budget: PendingBudget,
    private readonly host: CursorHost,
    maxPriority: number | undefined,
    recovered: boolean,
  ) {
    this.nextOffset = settle.lowWater;
    this.settledAhead = settle.countFrom(settle.lowWater);
    this.deliveredBefore = settle.deliveredEnd;
    this.recoveredEnd = recovered ? log.endOffset : 0;
    this.backlog = maxPriority === undefined ? null : new PriorityBacklog(maxPriority);
  }

  get next(): number {
    return this.nextOffset;
  }

  /**
   * After a restart, before the queue is used: reads the recovered log through once, so that counts are
   * exact (the transient messages the restart dropped are not counted) and a priority queue knows which
   * priorities wait in the log. Returns the body bytes of the messages that survived.
   */
  async recover(): Promise<number> {
    let bytes = 0;
    for (let from = this.nextOffset; from < this.recoveredEnd; ) {
      const read = await readFacts(this.log, from, LIMITS.queueRecoverReadBytes);
      for (const m of read.items) {
        if (m.offset >= this.recoveredEnd || this.settle.isSettled(m.offset)) continue;
        if (!m.persistent) this.lostAhead++;
        else {
          bytes += m.bodyBytes;
          this.backlog?.left(m.offset, m);
        }
      }
      if (read.nextOffset <= from) break;
      from = read.nextOffset;
    }
    return bytes;
  }

  /** Ready messages at or above the cursor that are only in the log. */
  unread(): number {
    const ahead = this.backlog?.ahead.size ?? 0;
    return this.host.end - this.nextOffset - this.settledAhead - ahead - this.lostAhead - this.claimed.size;
  }

  /** A message was just appended: it joins the window at once when it is the next to read and fits. */
  appended(qm: QueuedMessage): void {
    if (this.loading === null && qm.offset === this.nextOffset && this.hasRoomAhead()) {
      this.ready.pushPending(qm);
      this.nextOffset = qm.offset + 1;
    } else this.backlog?.left(qm.offset, qm.message);
  }

  private hasRoomAhead(): boolean {
    return this.ready.pendingBytes < PENDING_BYTES_MAX && !this.budget.full;
  }

  /** The window runs low: read on before it runs dry (a consumer held to its prefetch waits on every
   *  read it needs). */
  get windowLow(): boolean {
    return this.ready.pendingBytes < PENDING_BYTES_MAX / 2;
  }

  /** There is something stored to read where the next read would start. */
  get canRead(): boolean {
    return this.loadFrom() < this.log.endOffset;
  }

  /** A read ahead may start now: none under way, something to read, and room in the window (a priority
   *  read goes past a full window, by one read at most: its lane is empty in memory). */
  get mayReadAhead(): boolean {
    return this.loading === null && this.canRead && (this.hasRoomAhead() || this.behindLane() >= 0);
  }

  /** Settles every offset at or above the cursor that is not already in memory and moves the cursor to
   *  the end (a purge: the ready ones in memory were settled by the queue). */
  purge(): void {
    // messages taken ahead of the read cursor were settled with the ready ones, or are delivered and unacked
    for (let o = this.nextOffset; o < this.host.end; o++)
      if (this.backlog?.ahead.has(o) !== true) this.host.settle(o);
    this.backlog?.clear();
    this.claimed.clear();
    this.nextOffset = this.host.end;
    this.settledAhead = 0;
    this.lostAhead = 0;
  }

  /** A priority lane that must be read from the log before anything in memory is delivered, or -1: its
   *  messages outrank every ready one. */
  behindLane(): number {
    if (this.backlog === null) return -1;
    const lane = this.backlog.highestUnread();
    return lane > this.ready.highestReady() ? lane : -1;
  }

  /** Where the next read from the log starts. */
  private loadFrom(): number {
    const lane = this.behindLane();
    return lane < 0 ? this.nextOffset : (this.backlog as PriorityBacklog).fetchFrom(lane, this.nextOffset);
  }

  /** Reads from the log into pending: the messages of a priority lane that outranks memory, or the next
   *  chunk, skipping settled and lost transient messages. */
  load(): Promise<void> {
    this.loading ??= this.readNext().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private readNext(): Promise<void> {
    const lane = this.behindLane();
    // where the lane's messages may start at the cursor and the window has room, the next chunk serves
    // (each offset read once); otherwise the lane is read on its own, ahead of the cursor
    if (lane < 0 || (this.loadFrom() === this.nextOffset && this.hasRoomAhead())) return this.readChunk();
    return this.readLane(lane);
  }

  private async readChunk(): Promise<void> {
    const from = this.nextOffset;
    const read = await readMessages(this.log, from, LIMITS.queueReadBytes);
    if (this.nextOffset !== from) return;
    if (read.lost) this.lost(read.lost);
    for (const { offset, message, timestampMs } of read.items) {
      if (this.stepsOver(offset)) continue;
      if (this.settle.isSettled(offset)) this.settledAhead = Math.max(0, this.settledAhead - 1);
      else if (message === null || this.lostInRestart(offset, message)) {
        if (offset < this.recoveredEnd) this.lostAhead = Math.max(0, this.lostAhead - 1);
        this.host.settle(offset);
      } else {
        this.backlog?.fetched(message);
        this.admit(offset, message, timestampMs);
      }
    }
    this.nextOffset = read.nextOffset;
  }

  /** Reads `lane`'s messages from where they wait in the log, ahead of the cursor. */
  private async readLane(lane: number): Promise<void> {
    const usable = (offset: number, m: Message | null): m is Message =>
      m !== null &&
      !this.settle.isSettled(offset) &&
      !this.lostInRestart(offset, m) &&
      !this.claimed.has(offset);
    const b = this.backlog as PriorityBacklog;
    const taken = await b.readLane(this.log, lane, this.nextOffset, () => this.host.end, usable);
    for (const { offset, message, timestampMs } of taken) this.admit(offset, message, timestampMs);
  }

  /** A claimed offset, or one taken ahead: the cursor steps over it, and forgets it. */
  private stepsOver(offset: number): boolean {
    return this.claimed.delete(offset) || this.backlog?.ahead.delete(offset) === true;
  }

  /** Offsets the log skipped as damaged: their messages are gone; the unsettled ones are counted as lost
   *  and settled, so that the queue's count and its trims move on past them. */
  private lost(range: LostRange): void {
    let n = 0;
    for (let o = range.from; o < range.to; o++) {
      if (this.stepsOver(o)) continue;
      if (this.settle.isSettled(o)) this.settledAhead = Math.max(0, this.settledAhead - 1);
      else {
        this.host.settle(o);
        n++;
      }
    }
    if (n > 0) this.host.lost(range, n);
  }

  /** A transient message read back from before the restart: it did not survive it. */
  lostInRestart(offset: number, message: Message): boolean {
    return offset < this.recoveredEnd && !message.persistent;
  }

  /** A message read from the log joins the pending ones. */
  private admit(offset: number, message: Message, timestampMs: number): void {
    this.ready.pushPending(this.queued(offset, message, timestampMs));
  }

  /** A message read from the log, with what the ack log knows of it. */
  queued(offset: number, message: Message, timestampMs: number): QueuedMessage {
    const requeues = this.settle.requeuesOf(offset);
    const redelivered = offset < this.deliveredBefore || requeues > 0;
    return { offset, message, enqueuedMs: timestampMs, redelivered, requeues };
  }

  /** At or above the cursor and not taken into memory ahead of it: the message is only in the log. */
  inLog(offset: number): boolean {
    return offset >= this.nextOffset && this.backlog?.ahead.has(offset) !== true;
  }

  /** Claimed by a move and not settled yet. */
  isClaimed(offset: number): boolean {
    return this.claimed.has(offset);
  }

  /** A move takes the message at `offset` (only in the log) out of delivery; undefined when it already
   *  has it. */
  claim(offset: number, message: Message, timestampMs: number): QueuedMessage | undefined {
    if (this.claimed.has(offset)) return undefined;
    this.claimed.add(offset);
    this.backlog?.fetched(message);
    const qm = this.queued(offset, message, timestampMs);
    this.pass();
    return qm;
  }

  /** A claimed message is stored in its destination: settled, and the cursor steps over it. */
  settleMoved(offset: number): void {
    if (this.claimed.delete(offset)) this.settledAhead++; // the cursor steps over it
    this.host.settle(offset);
    this.pass();
  }

  /** A claimed message goes back where it was (its move failed): to the log's backlog or the window. */
  unclaim(qm: QueuedMessage): void {
    if (this.claimed.delete(qm.offset)) this.backlog?.left(qm.offset, qm.message);
    else this.ready.giveBack(qm);
  }

  /** Moves the cursor over what it would only step over (settled, claimed, taken ahead), so a move
   *  leaves no state per offset behind it. Not during a read: that read starts at the cursor it saw. */
  private pass(): void {
    if (this.loading !== null) return;
    for (let o = this.nextOffset; o < this.host.end; o = ++this.nextOffset) {
      if (this.stepsOver(o)) continue;
      if (!this.settle.isSettled(o)) return;
      this.settledAhead = Math.max(0, this.settledAhead - 1);
    }
  }
}
