// Which offsets of a queue's log are settled (acked, purged, dropped), kept durable in a small ack log.
// Invariant: a settled offset is never delivered again, also after a restart; offsets below lowWater are settled.

import { decodeRecords, readBatchHeader } from "@spindle/protocol";
import { type Logger, silentLogger } from "../lib/index.ts";
import type { Log } from "../log/index.ts";

const KIND_ACKS = 0;
const KIND_CHECKPOINT = 1;
/** write a checkpoint (and drop older ack records) after this many settled offsets */
const CHECKPOINT_EVERY = 50_000;
const READ_BYTES = 1024 * 1024;
/** settles are gathered this long into one ack-log append: nothing waits on them, and a process crash
 *  in between only redelivers those messages */
const FLUSH_DELAY_MS = 5;
const FLUSH_OFFSETS_MAX = 8192;

function encodeOffsets(kind: number, offsets: readonly number[]): Buffer {
  const b = Buffer.allocUnsafe(1 + offsets.length * 8);
  b[0] = kind;
  for (let i = 0; i < offsets.length; i++) b.writeDoubleLE(offsets[i] as number, 1 + i * 8);
  return b;
}

function decodeOffsets(b: Buffer): { kind: number; offsets: number[] } {
  const offsets: number[] = [];
  for (let at = 1; at + 8 <= b.length; at += 8) offsets.push(b.readDoubleLE(at));
  return { kind: b[0] ?? KIND_ACKS, offsets };
}

export class SettleState {
  private settled = new Set<number>();
  private unwritten: number[] = [];
  private flushScheduled = false;
  private sinceCheckpoint = 0;
  private writing: Promise<void> = Promise.resolve();

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

  /** Replays the ack log: the last checkpoint, then every ack after it. */
  static async recover(
    ackLog: Log,
    messageStart: number,
    messageEnd: number,
    logger: Logger,
  ): Promise<SettleState> {
    const s = new SettleState(messageStart, ackLog, logger);
    for (let at = ackLog.startOffset; at < ackLog.endOffset; ) {
      const read = await ackLog.read(at, READ_BYTES);
      if (read.data.length === 0) break;
      for (let pos = 0; pos < read.data.length; ) {
        const h = readBatchHeader(read.data, pos);
        const size = h.batchLength + 12;
        for (const r of decodeRecords(read.data.subarray(pos, pos + size))) {
          if (h.baseOffset + r.offsetDelta < at || r.value === null) continue;
          s.replay(decodeOffsets(r.value));
        }
        pos += size;
      }
      at = read.nextOffset;
    }
    // acks of messages whose append was lost in a crash must not swallow the offsets reused after it
    s.lowWater = Math.min(Math.max(s.lowWater, messageStart), messageEnd);
    for (const o of s.settled) if (o < s.lowWater || o >= messageEnd) s.settled.delete(o);
    s.advance();
    if (ackLog.endOffset > ackLog.startOffset) {
      // a checkpoint now supersedes every older record, including acks dropped just above
      const r = await ackLog.appendRecords([
        { value: encodeOffsets(KIND_CHECKPOINT, [s.lowWater, ...s.settled]) },
      ]);
      await ackLog.deleteRecordsBefore(r.lastOffset);
    }
    return s;
  }

  private replay(rec: { kind: number; offsets: number[] }): void {
    if (rec.kind === KIND_CHECKPOINT) {
      this.lowWater = rec.offsets[0] ?? 0;
      this.settled = new Set(rec.offsets.slice(1));
    } else for (const o of rec.offsets) if (o >= this.lowWater) this.settled.add(o);
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
    this.advance();
    if (this.ackLog === null) return;
    this.unwritten.push(offset);
    if (this.unwritten.length >= FLUSH_OFFSETS_MAX) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setTimeout(() => this.flush(), FLUSH_DELAY_MS);
    }
  }

  private advance(): void {
    while (this.settled.delete(this.lowWater)) this.lowWater++;
  }

  private flush(): void {
    this.flushScheduled = false;
    const log = this.ackLog;
    if (log === null || this.unwritten.length === 0) return;
    const offsets = this.unwritten;
    this.unwritten = [];
    this.sinceCheckpoint += offsets.length;
    const records = [{ value: encodeOffsets(KIND_ACKS, offsets) }];
    const checkpoint = this.sinceCheckpoint >= CHECKPOINT_EVERY;
    if (checkpoint) {
      this.sinceCheckpoint = 0;
      records.push({ value: encodeOffsets(KIND_CHECKPOINT, [this.lowWater, ...this.settled]) });
    }
    // appends are not chained: the log orders them by call and one group commit covers many
    const written = log.appendRecords(records).then(async (r) => {
      if (checkpoint) await log.deleteRecordsBefore(r.lastOffset);
    });
    this.writing = Promise.all([this.writing, written])
      .then(() => undefined)
      .catch((err: unknown) => this.logger.error({ err }, "queue ack log write failed"));
  }

  /** Resolves once every settle so far is written (under the log's fsync policy). */
  async drain(): Promise<void> {
    this.flush();
    await this.writing;
  }
}
