// Which offsets of a queue's log are settled (acked, purged, dropped), kept durable in a small ack log,
// with the delivery state RabbitMQ keeps across a restart: how far the queue has handed messages out
// (for `redelivered`) and the requeue counts of x-delivery-limit queues.
// Invariant: a settled offset is never delivered again, also after a restart; offsets below lowWater are
// settled; after a restart every offset that was handed out before the last flush is below deliveredEnd,
// and a delivery's frames wait for `markWritten` so every offset a client saw is (a poison message that
// kills its process is seen as redelivered after the restart, and counted).

import { decodeRecords, type RecordInput, readBatchHeader } from "@spindle/protocol";
import { isBrokerError, LIMITS, type Logger, silentLogger } from "../lib/index.ts";
import type { Log } from "../log/index.ts";

// An ack-log record is a kind byte and float64 values (little-endian).
/** settled offsets */
const KIND_ACKS = 0;
/** [lowWater, ...settled]: supersedes every older record, and the records of its own append follow it */
const KIND_CHECKPOINT = 1;
/** [-1 - end]: every offset below `end` may have been handed out (delivered, or got without no-ack) */
const KIND_DELIVERED = 2;
/** pairs [-1 - offset, -requeues]: an unsettled offset's requeue count (x-delivery-limit queues only) */
const KIND_REQUEUES = 3;
// DELIVERED and REQUEUES store their values negated: a build before them reads every kind but a
// checkpoint as acks of offsets at or above its low water (>= 0), so it skips theirs instead of losing
// messages. Kinds this build does not know are skipped: skipping a record can only bring a message back.

/** write a checkpoint (and drop older records) after this many settled offsets (or other records) */
const CHECKPOINT_EVERY = 50_000;
/** settles are gathered this long into one ack-log append: nothing waits on them, and a process crash
 *  in between only redelivers those messages (and loses that much delivery state) */
const FLUSH_DELAY_MS = 5;

function encodeValues(kind: number, values: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(1 + values.length * 8);
  b[0] = kind;
  for (let i = 0; i < values.length; i++) b.writeDoubleLE(values[i] as number, 1 + i * 8);
  return b;
}

function decodeValues(b: Buffer): { kind: number; values: number[] } {
  const values: number[] = [];
  for (let at = 1; at + 8 <= b.length; at += 8) values.push(b.readDoubleLE(at));
  return { kind: b[0] ?? KIND_ACKS, values };
}

export class SettleState {
  private settled = new Set<number>();
  private unwritten: number[] = [];
  private flushScheduled = false;
  private sinceCheckpoint = 0;
  private writing: Promise<void> = Promise.resolve();
  /** every offset below it may have been handed out; recovered from the ack log at start */
  deliveredEnd = 0;
  private writtenDeliveredEnd = 0;
  /** requeue counts of unsettled offsets (only x-delivery-limit queues record them) */
  private requeueCounts = new Map<number, number>();
  /** pairs offset, count not written yet */
  private unwrittenRequeues: number[] = [];
  /** a write was refused for a full disk: nothing is written until the ack log accepts appends again */
  private waitingForDisk = false;
  /** the delivered mark moved this turn: resolves once an ack-log write carries it */
  private markWrite: { done: Promise<void>; resolve: () => void } | undefined;

  private constructor(
    /** every offset below it is settled */
    public lowWater: number,
    private readonly ackLog: Log | null,
    private readonly logger: Logger,
  ) {}

  /** Without an ack log (transient queues) nothing is written. */
  static fresh(start: number): SettleState {
    return new SettleState(start, null, silentLogger);
  }

  /** Replays the ack log: the last checkpoint, then every record after it. */
  static async recover(
    ackLog: Log,
    messageStart: number,
    messageEnd: number,
    logger: Logger,
  ): Promise<SettleState> {
    const s = new SettleState(messageStart, ackLog, logger);
    for (let at = ackLog.startOffset; at < ackLog.endOffset; ) {
      const read = await ackLog.read(at, LIMITS.ackLogReadBytes);
      if (read.data.length === 0) break;
      for (let pos = 0; pos < read.data.length; ) {
        const h = readBatchHeader(read.data, pos);
        const size = h.batchLength + 12;
        for (const r of decodeRecords(read.data.subarray(pos, pos + size))) {
          if (h.baseOffset + r.offsetDelta < at || r.value === null) continue;
          s.replay(decodeValues(r.value));
        }
        pos += size;
      }
      at = read.nextOffset;
    }
    // state of messages whose append was lost in a crash must not stick to the offsets reused after it:
    // acks would swallow new messages, the delivered mark and requeue counts would be wrong for them
    s.lowWater = Math.min(Math.max(s.lowWater, messageStart), messageEnd);
    for (const o of s.settled) if (o < s.lowWater || o >= messageEnd) s.settled.delete(o);
    s.advance();
    s.deliveredEnd = Math.min(s.deliveredEnd, messageEnd);
    s.writtenDeliveredEnd = s.deliveredEnd;
    for (const o of s.requeueCounts.keys()) if (o >= messageEnd || s.isSettled(o)) s.requeueCounts.delete(o);
    if (ackLog.endOffset > ackLog.startOffset) {
      // a checkpoint now supersedes every older record, including those dropped just above
      const r = await ackLog.appendRecords(s.checkpointRecords());
      await ackLog.deleteRecordsBefore(r.baseOffset);
    }
    return s;
  }

  private replay(rec: { kind: number; values: number[] }): void {
    const v = rec.values;
    switch (rec.kind) {
      case KIND_ACKS:
        for (const o of v) if (o >= this.lowWater) this.settled.add(o);
        break;
      case KIND_CHECKPOINT:
        this.lowWater = v[0] ?? 0;
        this.settled = new Set(v.slice(1));
        this.deliveredEnd = 0;
        this.requeueCounts.clear();
        break;
      case KIND_DELIVERED:
        for (const x of v) this.deliveredEnd = Math.max(this.deliveredEnd, -1 - x);
        break;
      case KIND_REQUEUES:
        for (let i = 0; i + 1 < v.length; i += 2)
          this.requeueCounts.set(-1 - (v[i] as number), -(v[i + 1] as number));
        break;
      default:
      // a later build's kind: skipped
    }
  }

  /** The records of a checkpoint: the checkpoint first (older records are deleted up to it), then the
   *  delivery state it carries. */
  private checkpointRecords(): RecordInput[] {
    const records: RecordInput[] = [
      { value: encodeValues(KIND_CHECKPOINT, [this.lowWater, ...this.settled]) },
    ];
    if (this.deliveredEnd > this.lowWater)
      records.push({ value: encodeValues(KIND_DELIVERED, [-1 - this.deliveredEnd]) });
    if (this.requeueCounts.size > 0) {
      const pairs: number[] = [];
      for (const [o, n] of this.requeueCounts) pairs.push(o, n);
      records.push({ value: encodeRequeues(pairs) });
    }
    return records;
  }

  isSettled(offset: number): boolean {
    return offset < this.lowWater || this.settled.has(offset);
  }

  /** settled offsets at or above `from` (only non-zero after a restart with out-of-order acks) */
  countFrom(from: number): number {
    let n = 0;
    for (const o of this.settled) if (o >= from) n++;
    return n;
  }

  settle(offset: number): void {
    if (this.isSettled(offset)) return;
    this.settled.add(offset);
    if (this.requeueCounts.size !== 0) this.requeueCounts.delete(offset);
    this.advance();
    if (this.ackLog === null) return;
    this.unwritten.push(offset);
    if (this.unwritten.length >= LIMITS.ackLogFlushOffsetsMax) this.flush();
    else this.scheduleFlush();
  }

  /** The message at `offset` was handed out to be acked (a consumer, or basic.get without no-ack).
   *  Only the highest such offset is kept: one number per flush, whatever the rate. */
  delivered(offset: number): void {
    if (offset < this.deliveredEnd) return;
    this.deliveredEnd = offset + 1;
    if (this.ackLog === null || this.markWrite !== undefined) return;
    // written at the end of this turn, every delivery of the turn in one append (with the settles
    // gathered so far), not 5 ms later: the frames wait for it (markWritten)
    let resolve = () => {};
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    this.markWrite = { done, resolve };
    setImmediate(() => this.flush());
  }

  /** Resolves once the delivered mark of this turn's deliveries is written (a process crash then keeps
   *  it; the ack log is synced within a second); undefined when nothing waits to be written. A write that
   *  fails (a full disk) resolves it too: deliveries go on, only the mark may be lost in a crash. */
  get markWritten(): Promise<void> | undefined {
    return this.markWrite?.done;
  }

  /** The unsettled message at `offset` has now been requeued `count` times (x-delivery-limit queues). */
  requeued(offset: number, count: number): void {
    if (this.isSettled(offset)) return;
    this.requeueCounts.set(offset, count);
    if (this.ackLog === null) return;
    this.unwrittenRequeues.push(offset, count);
    if (this.unwrittenRequeues.length >= LIMITS.ackLogFlushOffsetsMax) this.flush();
    else this.scheduleFlush();
  }

  /** The requeue count recovered (or recorded since) for an unsettled offset. */
  requeuesOf(offset: number): number {
    return this.requeueCounts.size === 0 ? 0 : (this.requeueCounts.get(offset) ?? 0);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setTimeout(() => this.flush(), FLUSH_DELAY_MS);
  }

  private advance(): void {
    while (this.settled.delete(this.lowWater)) this.lowWater++;
  }

  private flush(): void {
    this.flushScheduled = false;
    const mark = this.markWrite;
    this.markWrite = undefined;
    const log = this.ackLog;
    if (log === null || this.waitingForDisk) {
      mark?.resolve();
      return;
    }
    const moved = this.deliveredEnd !== this.writtenDeliveredEnd;
    const offsets = this.unwritten;
    const requeues = this.unwrittenRequeues;
    if (offsets.length === 0 && requeues.length === 0 && !moved) {
      mark?.resolve();
      return;
    }
    this.unwritten = [];
    this.unwrittenRequeues = [];
    this.writtenDeliveredEnd = this.deliveredEnd;
    this.sinceCheckpoint += offsets.length + requeues.length / 2 + (moved ? 1 : 0);
    const checkpoint = this.sinceCheckpoint >= CHECKPOINT_EVERY;
    let records: RecordInput[];
    if (checkpoint) {
      this.sinceCheckpoint = 0;
      records = this.checkpointRecords();
    } else {
      records = [];
      if (offsets.length > 0) records.push({ value: encodeValues(KIND_ACKS, offsets) });
      if (moved) records.push({ value: encodeValues(KIND_DELIVERED, [-1 - this.deliveredEnd]) });
      if (requeues.length > 0) records.push({ value: encodeRequeues(requeues) });
    }
    // appends are not chained: the log orders them by call and one group commit covers many
    const appended = log.appendRecords(records);
    if (mark !== undefined) appended.then(mark.resolve, mark.resolve);
    const written = appended.then(async (r) => {
      if (checkpoint) await log.deleteRecordsBefore(r.baseOffset);
    });
    appended.catch((err: unknown) => {
      if (isBrokerError(err, "DISK_FULL")) this.writeAgainLater(log, offsets, requeues, moved, checkpoint);
    });
    this.writing = Promise.all([this.writing, written])
      .then(() => undefined)
      .catch((err: unknown) => {
        if (!isBrokerError(err, "DISK_FULL")) this.logger.error({ err }, "queue ack log write failed");
      });
  }

  /** A flush the ack log refused for a full disk: its contents go back to be written once it has room
   *  (a settle lost here would only bring its message back after a restart, but nothing needs losing). */
  private writeAgainLater(
    log: Log,
    offsets: number[],
    requeues: number[],
    moved: boolean,
    checkpoint: boolean,
  ): void {
    this.unwritten = offsets.concat(this.unwritten);
    this.unwrittenRequeues = requeues.concat(this.unwrittenRequeues); // later counts stay after
    if (moved) this.writtenDeliveredEnd = -1;
    if (checkpoint) this.sinceCheckpoint = CHECKPOINT_EVERY;
    if (this.waitingForDisk) return;
    this.waitingForDisk = true;
    log.writable().then(
      () => {
        this.waitingForDisk = false;
        this.flush();
      },
      () => undefined, // closed or failed for good: nothing more is written
    );
  }

  /** Resolves once every settle so far is written (under the log's fsync policy). */
  async drain(): Promise<void> {
    this.flush();
    await this.writing;
  }
}

/** pairs offset, count as a KIND_REQUEUES record (both negated) */
function encodeRequeues(pairs: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(1 + pairs.length * 8);
  b[0] = KIND_REQUEUES;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    b.writeDoubleLE(-1 - (pairs[i] as number), 1 + i * 8);
    b.writeDoubleLE(-(pairs[i + 1] as number), 9 + i * 8);
  }
  return b;
}
