// The sparse offset index and time index of one segment, in memory and in their files.
// Invariant: an index file is trusted only when its CRC matches and it covers exactly the segment's bytes.

import { crc32c } from "../lib/index.ts";

const MAGIC = 0x53504958; // "SPIX"
const VERSION = 1;
/** magic, version, crc, coveredBytes, nextOffset, maxTimestamp, entries */
const HEADER_BYTES = 4 + 2 + 4 + 8 + 8 + 8 + 4;
const OFFSET_ENTRY_BYTES = 8; // relative offset u32, position u32
const TIME_ENTRY_BYTES = 12; // timestamp i64, relative offset u32

/** What an index file says about its segment; trusted only if `coveredBytes` equals the file size. */
export interface IndexSummary {
  coveredBytes: number;
  nextOffset: number;
  maxTimestamp: number;
}

/** Where an index stood after some batch: see SegmentIndex.mark(). */
export interface IndexMark {
  readonly entries: number;
  readonly bytesSinceEntry: number;
  readonly maxTimestamp: number;
}

/** A typed array that doubles as it fills: compact entries without a copy per append. */
class Growable<T extends Uint32Array | Float64Array> {
  length = 0;
  constructor(
    public data: T,
    private readonly make: (size: number) => T,
  ) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = this.make(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

const u32s = () => new Growable(new Uint32Array(64), (n) => new Uint32Array(n));
const f64s = () => new Growable(new Float64Array(64), (n) => new Float64Array(n));

/** Index of the last element in a sorted array whose value is <= key (or < key when strict); -1 if none. */
function floorIndex(values: ArrayLike<number>, length: number, key: number, strict: boolean): number {
  let lo = 0;
  let hi = length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = values[mid]!;
    if (strict ? v < key : v <= key) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export class SegmentIndex {
  private readonly relOffsets = u32s();
  private readonly positions = u32s();
  private readonly times = f64s();
  private readonly timeRelOffsets = u32s();
  private bytesSinceEntry = Number.POSITIVE_INFINITY;
  private maxTimestampSoFar = -1;

  constructor(
    readonly baseOffset: number,
    private readonly intervalBytes: number,
  ) {}

  /**
   * Called for every batch in log order. Entries are added every `intervalBytes`, so a lookup
   * scans at most about that many bytes. The time entry holds the largest timestamp of all
   * batches before this one: every batch before it is older than any target above that value.
   */
  onBatch(baseOffset: number, position: number, sizeBytes: number, maxTimestamp: number): void {
    if (this.bytesSinceEntry >= this.intervalBytes) {
      const rel = baseOffset - this.baseOffset;
      this.relOffsets.push(rel);
      this.positions.push(position);
      this.times.push(this.maxTimestampSoFar);
      this.timeRelOffsets.push(rel);
      this.bytesSinceEntry = 0;
    }
    this.bytesSinceEntry += sizeBytes;
    if (maxTimestamp > this.maxTimestampSoFar) this.maxTimestampSoFar = maxTimestamp;
  }

  /** The state after the batches seen so far, to go back to with rewind(). */
  mark(): IndexMark {
    return {
      entries: this.relOffsets.length,
      bytesSinceEntry: this.bytesSinceEntry,
      maxTimestamp: this.maxTimestampSoFar,
    };
  }

  /** Forgets every batch seen after `m` was taken (their bytes were cut from the segment). */
  rewind(m: IndexMark): void {
    for (const g of [this.relOffsets, this.positions, this.times, this.timeRelOffsets]) g.length = m.entries;
    this.bytesSinceEntry = m.bytesSinceEntry;
    this.maxTimestampSoFar = m.maxTimestamp;
  }

  get maxTimestamp(): number {
    return this.maxTimestampSoFar;
  }

  /** The indexed batch at or before `offset`: its base offset and file position. */
  entryFor(offset: number): { offset: number; position: number } {
    const i = floorIndex(this.relOffsets.data, this.relOffsets.length, offset - this.baseOffset, false);
    if (i < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + this.relOffsets.data[i]!, position: this.positions.data[i]! };
  }

  /** The last indexed batch start in (`after`, `atMost`], or -1: a point where a read may end whole batches. */
  lastPositionIn(after: number, atMost: number): number {
    const i = floorIndex(this.positions.data, this.positions.length, atMost, false);
    if (i < 0) return -1;
    const p = this.positions.data[i]!;
    return p > after ? p : -1;
  }

  /** The first indexed batch start after `after`, or -1. */
  nextPositionAfter(after: number): number {
    const i = floorIndex(this.positions.data, this.positions.length, after, false) + 1;
    return i < this.positions.length ? this.positions.data[i]! : -1;
  }

  /** An offset at or before the first batch whose max timestamp is >= `timestamp`. */
  offsetBeforeTime(timestamp: number): number {
    const i = floorIndex(this.times.data, this.times.length, timestamp, true);
    return i < 0 ? this.baseOffset : this.baseOffset + this.timeRelOffsets.data[i]!;
  }

  /** Both index files' contents, each with a header binding it to the segment bytes it covers. */
  serialize(summary: IndexSummary): { offsetIndex: Buffer; timeIndex: Buffer } {
    const n = this.relOffsets.length;
    const off = Buffer.allocUnsafe(HEADER_BYTES + n * OFFSET_ENTRY_BYTES);
    const time = Buffer.allocUnsafe(HEADER_BYTES + n * TIME_ENTRY_BYTES);
    for (let i = 0; i < n; i++) {
      off.writeUInt32BE(this.relOffsets.data[i]!, HEADER_BYTES + i * 8);
      off.writeUInt32BE(this.positions.data[i]!, HEADER_BYTES + i * 8 + 4);
      time.writeDoubleBE(this.times.data[i]!, HEADER_BYTES + i * 12);
      time.writeUInt32BE(this.timeRelOffsets.data[i]!, HEADER_BYTES + i * 12 + 8);
    }
    writeHeader(off, summary, n);
    writeHeader(time, summary, n);
    return { offsetIndex: off, timeIndex: time };
  }

  /** Rebuilds from the two files, or returns null when either is damaged or does not match. */
  static deserialize(
    baseOffset: number,
    intervalBytes: number,
    offsetIndex: Buffer,
    timeIndex: Buffer,
  ): { index: SegmentIndex; summary: IndexSummary } | null {
    const a = readHeader(offsetIndex, OFFSET_ENTRY_BYTES);
    const b = readHeader(timeIndex, TIME_ENTRY_BYTES);
    if (!a || !b || a.entries !== b.entries || a.summary.coveredBytes !== b.summary.coveredBytes) return null;
    const index = new SegmentIndex(baseOffset, intervalBytes);
    for (let i = 0; i < a.entries; i++) {
      index.relOffsets.push(offsetIndex.readUInt32BE(HEADER_BYTES + i * 8));
      index.positions.push(offsetIndex.readUInt32BE(HEADER_BYTES + i * 8 + 4));
      index.times.push(timeIndex.readDoubleBE(HEADER_BYTES + i * 12));
      index.timeRelOffsets.push(timeIndex.readUInt32BE(HEADER_BYTES + i * 12 + 8));
    }
    index.maxTimestampSoFar = a.summary.maxTimestamp;
    index.bytesSinceEntry = 0; // sealed: no more entries are added
    return { index, summary: a.summary };
  }
}

function writeHeader(buf: Buffer, s: IndexSummary, entries: number): void {
  buf.writeUInt32BE(MAGIC, 0);
  buf.writeUInt16BE(VERSION, 4);
  buf.writeDoubleBE(s.coveredBytes, 10);
  buf.writeDoubleBE(s.nextOffset, 18);
  buf.writeDoubleBE(s.maxTimestamp, 26);
  buf.writeUInt32BE(entries, 34);
  buf.writeUInt32BE(crc32c(buf.subarray(10)), 6);
}

function readHeader(buf: Buffer, entryBytes: number): { summary: IndexSummary; entries: number } | null {
  if (buf.length < HEADER_BYTES) return null;
  if (buf.readUInt32BE(0) !== MAGIC || buf.readUInt16BE(4) !== VERSION) return null;
  const entries = buf.readUInt32BE(34);
  if (buf.length !== HEADER_BYTES + entries * entryBytes) return null;
  if (crc32c(buf.subarray(10)) !== buf.readUInt32BE(6)) return null;
  const summary = {
    coveredBytes: buf.readDoubleBE(10),
    nextOffset: buf.readDoubleBE(18),
    maxTimestamp: buf.readDoubleBE(26),
  };
  return { summary, entries };
}
