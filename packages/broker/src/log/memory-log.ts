// The in-memory log: the same contract as FileLog (offsets, segments, roll, retention, lookups)
// without a disk, for tests and transient data. Batches are kept as stored bytes.

import { encodeRecordBatch, type RecordInput, readBatchHeader, setBaseOffset } from "@spindle/protocol";
import { BrokerError, type Clock, crc32c, decodeBatchRecords, LIMITS } from "../lib/index.ts";
import { checkAppendable } from "./append-check.ts";
import { type DamageCounts, noDamage } from "./damage.ts";
import type { AppendResult, Log, LogConfig, ReadResult, TimestampLookup } from "./log.ts";
import { activeExpired, countPastRetention } from "./retention.ts";

interface StoredBatch {
  bytes: Buffer;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

interface MemorySegment {
  baseOffset: number;
  batches: StoredBatch[];
  size: number;
  rollAtMs: number;
}

export class MemoryLog implements Log {
  private segments: MemorySegment[];
  private start = 0;
  private end = 0;
  private closed = false;
  /** memory is not damaged the way a disk is */
  readonly damage: Readonly<DamageCounts> = noDamage();

  constructor(
    private readonly config: LogConfig,
    private readonly clock: Clock,
  ) {
    this.segments = [this.newSegment(0)];
  }

  get maxTimestamp(): number {
    let max = -1;
    for (const b of this.batchesFrom(this.start)) max = Math.max(max, b.maxTimestamp);
    return max;
  }

  get startOffset(): number {
    return this.start;
  }
  get endOffset(): number {
    return this.end;
  }
  get sizeBytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }
  get segmentCount(): number {
    return this.segments.length;
  }

  private newSegment(baseOffset: number): MemorySegment {
    return { baseOffset, batches: [], size: 0, rollAtMs: this.clock.nowMs() + this.config.segmentMs };
  }

  async append(batch: Buffer): Promise<AppendResult> {
    if (this.closed) throw new BrokerError("LOG_CLOSED", "log is closed");
    checkAppendable(batch, this.config.segmentBytes);
    let seg = this.segments[this.segments.length - 1]!;
    const full = seg.size + batch.length > this.config.segmentBytes;
    if (seg.size > 0 && (full || this.clock.nowMs() >= seg.rollAtMs)) {
      seg = this.newSegment(this.end);
      this.segments.push(seg);
    }
    const h = readBatchHeader(batch);
    setBaseOffset(batch, 0, this.end);
    const stored = {
      bytes: batch,
      baseOffset: this.end,
      lastOffset: this.end + h.lastOffsetDelta,
      maxTimestamp: h.maxTimestamp,
    };
    seg.batches.push(stored);
    seg.size += batch.length;
    this.end = stored.lastOffset + 1;
    return { baseOffset: stored.baseOffset, lastOffset: stored.lastOffset };
  }

  writable(): Promise<void> {
    return this.closed ? Promise.reject(new BrokerError("LOG_CLOSED", "log is closed")) : Promise.resolve();
  }

  appendRecords(records: readonly RecordInput[], timestampMs?: number): Promise<AppendResult> {
    return this.append(encodeRecordBatch({ records, timestamp: timestampMs ?? this.clock.nowMs() }, crc32c));
  }

  private *batchesFrom(offset: number): Generator<StoredBatch> {
    for (const seg of this.segments) {
      for (const b of seg.batches) if (b.lastOffset >= offset && b.lastOffset >= this.start) yield b;
    }
  }

  async read(offset: number, maxBytes: number): Promise<ReadResult> {
    if (offset < this.start || offset > this.end) {
      throw new BrokerError(
        "OFFSET_OUT_OF_RANGE",
        `offset ${offset} is outside the log [${this.start}, ${this.end}]`,
        {
          startOffset: this.start,
          endOffset: this.end,
        },
      );
    }
    const out: Buffer[] = [];
    let bytes = 0;
    let nextOffset = offset;
    for (const b of this.batchesFrom(offset)) {
      if (out.length > 0 && bytes + b.bytes.length > maxBytes) break;
      out.push(b.bytes);
      bytes += b.bytes.length;
      nextOffset = b.lastOffset + 1;
    }
    return { data: Buffer.concat(out), nextOffset };
  }

  async offsetForTimestamp(timestampMs: number): Promise<TimestampLookup | null> {
    for (const b of this.batchesFrom(this.start)) {
      if (b.maxTimestamp < timestampMs) continue;
      const h = readBatchHeader(b.bytes);
      for (const r of await decodeBatchRecords(b.bytes, LIMITS.decompressedBatchBytesMax)) {
        const offset = h.baseOffset + r.offsetDelta;
        const timestamp = h.baseTimestamp + r.timestampDelta;
        if (offset >= this.start && timestamp >= timestampMs) return { offset, timestamp };
      }
    }
    return null;
  }

  async deleteRecordsBefore(offset: number): Promise<void> {
    if (offset <= this.start) return;
    if (offset > this.end) {
      throw new BrokerError(
        "OFFSET_OUT_OF_RANGE",
        `cannot delete up to ${offset}: the log ends at ${this.end}`,
      );
    }
    this.start = offset;
    while (this.segments.length > 1 && this.segmentEnd(0) <= offset) this.segments.shift();
  }

  private segmentEnd(i: number): number {
    const next = this.segments[i + 1];
    return next ? next.baseOffset : this.end;
  }

  async enforceRetention(): Promise<number> {
    const now = this.clock.nowMs();
    const retained = (seg: MemorySegment) => ({
      size: seg.size,
      maxTimestamp: Math.max(-1, ...seg.batches.map((b) => b.maxTimestamp)),
    });
    if (activeExpired(retained(this.segments[this.segments.length - 1]!), this.config.retentionMs, now)) {
      this.segments.push(this.newSegment(this.end)); // roll the expired active segment, as Kafka does
    }
    const sealed = this.segments.slice(0, -1).map(retained);
    const deleted = countPastRetention(sealed, this.sizeBytes, this.config, now);
    this.segments.splice(0, deleted);
    this.start = Math.max(this.start, this.segments[0]!.baseOffset);
    return deleted;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }
}
