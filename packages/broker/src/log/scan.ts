// Walks the record batches stored in a byte range of a segment file, checking each one.
// Invariant: a batch is passed on only if its length, magic, offsets and (when asked) CRC are valid.

import { BATCH_CRC_START, BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD, readInt64 } from "@spindle/protocol";
import type { FileHandle } from "../lib/index.ts";
import { crc32c, LIMITS } from "../lib/index.ts";
import type { DamagedSegment, FoundBy, LogDamage } from "./damage.ts";

export interface ScannedBatch {
  pos: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

export interface ScanResult {
  /** file position just after the last good batch visited */
  end: number;
  /** offset after the last good batch visited */
  nextOffset: number;
  /** why the scan stopped before `to`, or null */
  problem: string | null;
}

export interface ScanOptions {
  from: number;
  to: number;
  /** baseOffset the first batch must have, or null when unknown (reads that start mid-segment) */
  expectedOffset: number | null;
  verifyCrc: boolean;
  chunkBytes?: number;
}

/** Checks the batch at `at` inside `buf`; returns a reason when it is bad. */
export function checkBatch(buf: Buffer, at: number, size: number, verifyCrc: boolean): string | null {
  if (buf.readInt8(at + 16) !== 2) return `magic byte ${buf.readInt8(at + 16)} is not 2`;
  if (buf.readInt32BE(at + 23) < 0) return "negative lastOffsetDelta";
  if (verifyCrc) {
    const crc = crc32c(buf.subarray(at + BATCH_CRC_START, at + size));
    if (crc !== buf.readUInt32BE(at + 17)) return "CRC mismatch";
  }
  return null;
}

/**
 * Visits batches in [from, to). `visit` gets each batch's metadata and its bytes (a view valid only
 * during the call) and returns false to stop. Stops at the first bad batch and says why.
 */
export async function scanBatches(
  fh: FileHandle,
  opts: ScanOptions,
  visit: (b: ScannedBatch, bytes: Buffer) => boolean,
): Promise<ScanResult> {
  // No larger than the range: a log of a few KiB is not read through a 1 MiB buffer.
  let buf = Buffer.allocUnsafe(Math.max(0, Math.min(opts.chunkBytes ?? 1 << 20, opts.to - opts.from)));
  let pos = opts.from;
  let expected = opts.expectedOffset;
  const result = (problem: string | null): ScanResult => ({ end: pos, nextOffset: expected ?? -1, problem });
  while (pos < opts.to) {
    const want = Math.min(buf.length, opts.to - pos);
    const got = await fh.read(buf, 0, want, pos);
    if (got < BATCH_LOG_OVERHEAD)
      return result(`${opts.to - pos} bytes at position ${pos} are not a whole batch`);
    let at = 0;
    while (at + BATCH_LOG_OVERHEAD <= got) {
      const size = BATCH_LOG_OVERHEAD + buf.readInt32BE(at + 8);
      if (size < BATCH_HEADER_BYTES || size > LIMITS.batchBytesMax) {
        return result(`batch length ${size} at position ${pos} is out of range`);
      }
      if (pos + size > opts.to)
        return result(`batch at position ${pos} needs ${size} bytes, file ends first`);
      if (at + size > got) {
        if (at === 0) buf = Buffer.allocUnsafe(size); // one batch larger than the chunk
        break;
      }
      const problem = checkBatch(buf, at, size, opts.verifyCrc);
      if (problem) return result(`${problem} in batch at position ${pos}`);
      const baseOffset = readInt64(buf, at);
      if (expected !== null && baseOffset !== expected) {
        return result(`batch at position ${pos} has offset ${baseOffset}, expected ${expected}`);
      }
      const lastOffset = baseOffset + buf.readInt32BE(at + 23);
      const maxTimestamp = readInt64(buf, at + 35);
      const keepGoing = visit(
        { pos, size, baseOffset, lastOffset, maxTimestamp },
        buf.subarray(at, at + size),
      );
      pos += size;
      at += size;
      expected = lastOffset + 1;
      if (!keepGoing) return result(null);
    }
  }
  return result(null);
}

export interface WalkOptions {
  from: number;
  to: number;
  expectedOffset: number;
  /** the offset at `to` (see DamageBound) */
  endOffset: number;
  /** see DamageBound: set when the offset at `to` is not known */
  offsetAtEnd?: number;
  foundBy: FoundBy;
  /** whether damage whose first lost offset is `offset` may be stepped over; otherwise the walk stops there */
  canSkip?: (offset: number) => boolean;
  chunkBytes?: number;
}

/**
 * scanBatches over a whole stretch of a segment, stepping over damage: each damaged stretch is resolved
 * (and reported) through `damage`, and the walk goes on with the next intact batch. Stops at damage only
 * where `canSkip` says no, and then says why, as scanBatches does.
 */
export async function walkBatches(
  seg: DamagedSegment,
  damage: LogDamage,
  opts: WalkOptions,
  visit: (b: ScannedBatch, bytes: Buffer) => boolean,
): Promise<ScanResult> {
  let from = opts.from;
  let expected = opts.expectedOffset;
  for (;;) {
    const known = damage.at(seg.baseOffset, from);
    if (known) {
      from = known.toPos;
      expected = known.toOffset;
    }
    if (from >= opts.to) return { end: from, nextOffset: expected, problem: null };
    const chunk = opts.chunkBytes === undefined ? {} : { chunkBytes: opts.chunkBytes };
    const r = await scanBatches(
      seg.fh,
      { from, to: opts.to, expectedOffset: expected, verifyCrc: true, ...chunk },
      visit,
    );
    if (r.problem === null || (opts.canSkip && !opts.canSkip(r.nextOffset))) return r;
    const at = opts.offsetAtEnd;
    const bound =
      at === undefined
        ? { to: opts.to, endOffset: opts.endOffset }
        : { to: opts.to, endOffset: opts.endOffset, offsetAtEnd: at };
    const range = await damage.resolve(seg, r.end, r.nextOffset, bound, r.problem, opts.foundBy);
    from = range.toPos;
    expected = range.toOffset;
  }
}
