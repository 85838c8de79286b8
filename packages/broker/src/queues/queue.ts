// One queue: its log, delivery cursor, requeued messages, consumers (round robin) and settlement.
// Invariant: each stored message is, at any time, exactly one of: unread in the log, pending, delivered
// (unacked), requeued, or settled; memory holds pending (bounded) and unacked messages only.

import { decodeRecords, readBatchHeader } from "@spindle/protocol";
import type { Log } from "../log/index.ts";
import { AppendBatcher } from "./append-batcher.ts";
import type { QueueConsumer } from "./consumer.ts";
import { fromRecord, type Message, messageBytes, type QueuedMessage, toRecord } from "./message.ts";
import type { SettleState } from "./settle-state.ts";

const PENDING_BYTES_MAX = 4 * 1024 * 1024;
const READ_BYTES = 256 * 1024;
/** trim the log (whole segments) after this many settled messages */
const TRIM_EVERY = 10_000;

export interface QueueOptions {
  readonly name: string;
  readonly durable: boolean;
  readonly exclusiveOwner: string | null;
  readonly autoDelete: boolean;
  readonly args: Readonly<Record<string, unknown>>;
}

export class Queue {
  private pending: QueuedMessage[] = [];
  private pendingBytes = 0;
  private nextReadOffset: number;
  private requeued: QueuedMessage[] = [];
  /** settled offsets at or above nextReadOffset, known after a restart */
  private settledAhead: number;
  private loading: Promise<void> | null = null;
  private readonly appender: AppendBatcher;
  private readonly consumers: QueueConsumer[] = [];
  private rr = 0;
  private draining = false;
  private trimmedAt: number;
  private unackedCount = 0;
  /** set when recovered from disk: transient messages below it were lost with the restart */
  private recoveredEnd = 0;
  deleted = false;
  /** a consumer holds it with basic.consume exclusive */
  exclusiveConsumer = false;
  hadConsumer = false;
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(
    readonly opts: QueueOptions,
    private readonly log: Log,
    private readonly settle: SettleState,
    recovered: boolean,
  ) {
    this.nextReadOffset = settle.lowWater;
    this.trimmedAt = settle.lowWater;
    this.settledAhead = settle.countFrom(settle.lowWater);
    if (recovered) this.recoveredEnd = log.endOffset;
    this.appender = new AppendBatcher(log);
  }

  get name(): string {
    return this.opts.name;
  }

  /** Messages ready for delivery (not counting delivered-but-unacked ones). */
  get messageCount(): number {
    const unread = this.appender.end - this.nextReadOffset - this.settledAhead;
    return this.requeued.length + this.pending.length + Math.max(0, unread);
  }

  /** Counts once every append started so far has landed (what queue.declare-ok reports). */
  async settledCounts(): Promise<{ messageCount: number; consumerCount: number }> {
    return { messageCount: this.messageCount, consumerCount: this.consumerCount };
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  get unacked(): number {
    return this.unackedCount;
  }

  /** Deliverable at once; the promise resolves once the message is stored under the fsync policy. */
  enqueue(message: Message): Promise<void> {
    const { offset, stored } = this.appender.add(toRecord(message), messageBytes(message));
    this.onAppended(offset, message);
    stored.then(
      () => this.startLoad(),
      () => undefined,
    );
    return stored;
  }

  private onAppended(offset: number, message: Message): void {
    if (this.deleted) return;
    if (this.loading === null && offset === this.nextReadOffset && this.pendingBytes < PENDING_BYTES_MAX) {
      this.pending.push({ offset, message, redelivered: false });
      this.pendingBytes += messageBytes(message);
      this.nextReadOffset = offset + 1;
    }
    this.drain();
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
    try {
      while (this.consumers.length > 0) {
        const c = this.nextReadyConsumer();
        if (c === undefined) break;
        const qm = this.take();
        if (qm === undefined) break;
        this.handOut(qm, c.noAck);
        c.deliver(qm);
      }
    } finally {
      this.draining = false;
    }
    if (this.pending.length === 0 && this.consumers.length > 0) this.startLoad();
  }

  private nextReadyConsumer(): QueueConsumer | undefined {
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

  private take(): QueuedMessage | undefined {
    const r = this.requeued.shift();
    if (r !== undefined) return r;
    const p = this.pending.shift();
    if (p !== undefined) this.pendingBytes -= messageBytes(p.message);
    return p;
  }

  private handOut(qm: QueuedMessage, noAck: boolean): void {
    if (noAck) this.settleOffset(qm.offset);
    else this.unackedCount++;
  }

  /** basic.get: the next ready message, loading from the log if needed; null when empty. */
  async get(noAck: boolean): Promise<QueuedMessage | null> {
    for (;;) {
      const qm = this.take();
      if (qm !== undefined) {
        this.handOut(qm, noAck);
        return qm;
      }
      if (this.nextReadOffset >= this.appender.end || this.deleted) return null;
      if (this.nextReadOffset >= this.log.endOffset) await this.appender.lastStored;
      await this.load();
    }
  }

  ack(qm: QueuedMessage): void {
    this.unackedCount--;
    this.settleOffset(qm.offset);
    this.drain();
  }

  /** Puts a delivered message back at its place in the queue, marked redelivered. */
  requeue(qm: QueuedMessage): void {
    this.unackedCount--;
    if (this.deleted) return;
    qm.redelivered = true;
    let i = this.requeued.length;
    while (i > 0 && (this.requeued[i - 1] as QueuedMessage).offset > qm.offset) i--;
    this.requeued.splice(i, 0, qm);
  }

  /** Removes every ready message; returns how many. */
  async purge(): Promise<number> {
    await this.loading;
    const n = this.messageCount;
    for (const qm of this.requeued) this.settleOffset(qm.offset);
    for (const qm of this.pending) this.settleOffset(qm.offset);
    for (let o = this.nextReadOffset; o < this.appender.end; o++) this.settleOffset(o);
    this.requeued = [];
    this.pending = [];
    this.pendingBytes = 0;
    this.nextReadOffset = this.appender.end;
    this.settledAhead = 0;
    return n;
  }

  private settleOffset(offset: number): void {
    this.settle.settle(offset);
    const low = this.settle.lowWater;
    if (low - this.trimmedAt >= TRIM_EVERY) {
      this.trimmedAt = low;
      this.log.deleteRecordsBefore(Math.min(low, this.log.endOffset)).catch(() => undefined);
    }
  }

  private startLoad(): void {
    if (this.loading !== null || this.nextReadOffset >= this.log.endOffset) return;
    this.load().then(
      () => this.drain(),
      () => undefined,
    );
  }

  /** Reads the next chunk of the log into pending, skipping settled and lost transient messages. */
  private load(): Promise<void> {
    this.loading ??= this.readChunk().finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async readChunk(): Promise<void> {
    const from = this.nextReadOffset;
    const read = await this.log.read(from, READ_BYTES);
    if (this.nextReadOffset !== from) return;
    for (let pos = 0; pos < read.data.length; ) {
      const h = readBatchHeader(read.data, pos);
      const size = h.batchLength + 12;
      for (const r of decodeRecords(read.data.subarray(pos, pos + size))) {
        this.acceptLoaded(h.baseOffset + r.offsetDelta, fromRecord(r));
      }
      pos += size;
    }
    this.nextReadOffset = Math.max(from, read.nextOffset);
  }

  private acceptLoaded(offset: number, message: Message): void {
    if (offset < this.nextReadOffset) return;
    if (this.settle.isSettled(offset)) {
      this.settledAhead = Math.max(0, this.settledAhead - 1);
      return;
    }
    if (offset < this.recoveredEnd && !message.persistent) {
      this.settleOffset(offset);
      return;
    }
    this.pending.push({ offset, message, redelivered: false });
    this.pendingBytes += messageBytes(message);
  }

  /** Detaches every consumer, telling each that the queue is gone. */
  markDeleted(): void {
    this.deleted = true;
    const cs = this.consumers.splice(0);
    for (const c of cs) c.cancelledByQueue();
    this.pending = [];
    this.requeued = [];
  }

  async close(): Promise<void> {
    this.appender.flush();
    await this.appender.lastStored;
    await this.loading?.catch(() => undefined);
    await this.settle.drain();
    await this.log.close();
    for (const c of this.closers) await c();
  }

  /** Runs after the queue's log is closed (the store closes the ack log here). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }
}
