// x-delayed-message exchanges: a message with an `x-delay` header is appended to the exchange's own log
// (durable when the exchange is, and kept over a restart when the message is persistent, as the plugin
// does) and routed by the exchange's x-delayed-type when due. Memory holds only a bounded index of the
// earliest due (DelayIndex); the rest is read back from the log when the index runs dry.
// Invariant: a held message is settled in the log only after it has been routed, so a restart re-arms
// every message not yet released; no held message is released twice in one run.

import { type Clock, LIMITS, type TimerHandle } from "../lib/index.ts";
import type { Log } from "../log/index.ts";
import { AppendBatcher } from "./append-batcher.ts";
import { type DelayEntry, DelayIndex, Smallest } from "./delay-index.ts";
import { createMessage, type Message, messageBytes } from "./message.ts";
import type { EnqueueResult } from "./queue.ts";
import { readMessages } from "./queue-reader.ts";
import type { SettleState } from "./settle-state.ts";

export const DELAYED_TYPE = "x-delayed-message";

/** a release reads just the batch holding the offset (at least one batch is returned) */
const RELEASE_READ_BYTES = 1;
/** messages routed per timer turn at most: a burst due at once is released in steps */
const RELEASE_BATCH = 1024;
/** trim the log (whole segments) after this many settled messages */
const TRIM_EVERY = 10_000;

export function delayedQueueName(exchange: string): string {
  return `amq.delayed.${exchange}`;
}

/** The x-delay header as a positive integer of milliseconds, or 0 (route at once). */
export function delayOf(headers: Readonly<Record<string, unknown>> | undefined): number {
  const d = headers?.["x-delay"];
  return typeof d === "number" && Number.isInteger(d) && d > 0 ? d : 0;
}

function copyBuffers(m: Message): { body: Buffer; properties: Buffer } {
  return { body: Buffer.from(m.body), properties: Buffer.from(m.properties) };
}

/** The held messages of one x-delayed-message exchange: where a delayed publish is enqueued. */
export class DelayedMessages {
  private readonly appender: AppendBatcher;
  private readonly index: DelayIndex;
  /** popped from the index and not settled yet: a refill must not find them again */
  private readonly inflight = new Set<number>();
  /** set while a refill reads the log: what arrives meanwhile joins the index after it */
  private arrivals: DelayEntry[] | null = null;
  private refilling: Promise<void> | null = null;
  private releasing = false;
  private timer: TimerHandle | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private stopped = false;
  private trimmedAt: number;
  private readonly closers: (() => Promise<void>)[] = [];
  /** transient messages below it did not survive the restart */
  private readonly recoveredEnd: number;

  constructor(
    readonly name: string,
    private readonly log: Log,
    private readonly settle: SettleState,
    private readonly clock: Clock,
    private readonly release: (m: Message) => void,
    private readonly onError: (err: unknown) => void,
    indexCapacity: number = LIMITS.delayIndexEntriesMax,
    private readonly bodyBytesMax: number = LIMITS.delayBodiesBytesMax,
  ) {
    this.index = new DelayIndex(indexCapacity);
    this.recoveredEnd = log.endOffset;
    this.trimmedAt = settle.lowWater;
    this.appender = new AppendBatcher(
      log,
      () => undefined,
      (offset) => settle.isSettled(offset),
      LIMITS.delayedBatchBytesMax,
    );
    // what the log holds from before is found by a first refill
    if (settle.lowWater < log.endOffset) this.index.outside = 1;
  }

  /** Reads back what a restart kept, then arms the timer. */
  async start(): Promise<void> {
    await this.refill();
  }

  /** Held messages in memory (the index), for tests and metrics. */
  get indexed(): number {
    return this.index.size;
  }

  enqueue(message: Message): EnqueueResult {
    if (this.stopped) return Promise.resolve();
    const now = this.clock.nowMs();
    const offset = this.appender.end;
    const stored = this.appender.add(message, now);
    const due = now + message.delayMs;
    if (this.arrivals !== null) this.arrivals.push({ due, offset, message: null });
    else this.index.add({ due, offset, message: this.keep(message, this.index.bytes) });
    this.arm();
    return stored;
  }

  /** The message to keep in the index, if the budget has room (else it is read back when due). */
  private keep(m: Message, heldBytes: number): Message | null {
    return heldBytes + messageBytes(m) <= this.bodyBytesMax ? m : null;
  }

  private arm(): void {
    if (this.stopped || this.releasing || this.refilling !== null) return;
    if (this.index.needsRefill) {
      this.refill().catch((err: unknown) => this.onError(err));
      return;
    }
    const next = this.index.peek()?.due;
    if (next === undefined || (this.timer !== undefined && this.armedFor <= next)) return;
    this.clock.clearTimer(this.timer);
    this.armedFor = next;
    this.timer = this.clock.setTimer(next - this.clock.nowMs(), () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    if (this.stopped || this.releasing) return;
    const now = this.clock.nowMs();
    const due: DelayEntry[] = [];
    for (let e = this.index.peek(); e !== undefined && e.due <= now && due.length < RELEASE_BATCH; ) {
      this.index.pop();
      this.inflight.add(e.offset);
      due.push(e);
      e = this.index.peek();
    }
    if (due.length === 0) {
      this.arm();
      return;
    }
    this.releasing = true;
    this.releaseAll(due)
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        this.releasing = false;
        this.arm();
      });
  }

  /** Reads the due messages back (each batch of the log once) and routes them in due order. */
  private async releaseAll(due: DelayEntry[]): Promise<void> {
    const wanted = new Set(due.filter((e) => e.message === null).map((e) => e.offset));
    if (due.some((e) => e.message === null && e.offset >= this.log.endOffset)) {
      this.appender.flush();
      await this.appender.lastStored;
    }
    const found = new Map<number, Message | null>();
    for (const offset of [...wanted].sort((a, b) => a - b)) {
      if (found.has(offset)) continue;
      const read = await readMessages(this.log, offset, RELEASE_READ_BYTES);
      for (const item of read.items) if (wanted.has(item.offset)) found.set(item.offset, item.message);
      if (!found.has(offset)) found.set(offset, null);
    }
    if (this.stopped) return;
    for (const e of due) {
      const m = e.message ?? found.get(e.offset);
      if (m != null) this.release(createMessage({ ...m, delayMs: 0 }));
      this.settleOffset(e.offset);
    }
  }

  private settleOffset(offset: number): void {
    this.inflight.delete(offset);
    this.settle.settle(offset);
    const low = this.settle.lowWater;
    if (low - this.trimmedAt >= TRIM_EVERY) {
      this.trimmedAt = low;
      this.log.deleteRecordsBefore(Math.min(low, this.log.endOffset)).catch((err) => this.onError(err));
    }
  }

  /** The index ran dry with messages left in the log: reads the log through once, keeping the earliest. */
  private refill(): Promise<void> {
    this.refilling ??= this.readBack().finally(() => {
      this.refilling = null;
      this.arm();
    });
    return this.refilling;
  }

  private async readBack(): Promise<void> {
    this.arrivals = [];
    const end = this.appender.end;
    this.appender.flush();
    await this.appender.lastStored;
    const found = new Smallest(this.index.capacity);
    try {
      for (let from = this.settle.lowWater; from < end; ) {
        const read = await readMessages(this.log, from, LIMITS.delayedRefillReadBytes);
        for (const { offset, message, timestampMs } of read.items) {
          if (offset >= end || this.settle.isSettled(offset) || this.inflight.has(offset)) continue;
          if (message === null || (offset < this.recoveredEnd && !message.persistent))
            this.settleOffset(offset);
          else {
            // a copy: the message's buffers are views of the whole read, which they would keep alive
            const kept = this.keep(message, found.bytes);
            const copy = kept === null ? null : createMessage({ ...kept, ...copyBuffers(kept) });
            found.add({ due: timestampMs + message.delayMs, offset, message: copy });
          }
        }
        if (read.nextOffset <= from) break;
        from = read.nextOffset;
      }
    } finally {
      this.index.refilled(found);
      const arrivals = this.arrivals;
      this.arrivals = null;
      for (const e of arrivals) this.index.add(e);
    }
  }

  /** Stops releasing; what is held stays in the log. */
  stop(): void {
    this.stopped = true;
    this.clock.clearTimer(this.timer);
  }

  /** Stops and writes out what was appended and settled. */
  async close(): Promise<void> {
    this.stop();
    this.appender.flush();
    await this.appender.lastStored;
    await this.refilling?.catch(() => undefined);
    await this.settle.drain();
    await this.log.close();
    for (const c of this.closers) await c();
  }

  /** Runs after the log is closed (the store closes the ack log here). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }
}
