// Reading from one segment: whole batches from the one holding an offset, and timestamp lookups.
// Invariant: nothing is returned that failed its CRC or lies beyond the segment's acknowledged bytes.

import {
  BATCH_CRC_START,
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  readBatchHeader,
  readInt64,
} from "@spindle/protocol";
import { crc32c, decodeBatchRecords, LIMITS } from "../lib/index.ts";
import type { LogDamage } from "./damage.ts";
import type { TimestampLookup } from "./log.ts";
import { RECYCLED_BYTES_MIN, readBuffers } from "./read-buffers.ts";
import { walkBatches } from "./scan.ts";
import type { Segment } from "./segment.ts";
import type { SegmentIndex } from "./segment-index.ts";

export interface SegmentRead {
  data: Buffer;
  nextOffset: number;
  /** set when `data` lies in a recycled buffer: gives it back */
  release?: () => void;
}

const EMPTY = Buffer.alloc(0);

async function readAt(seg: Segment, pos: number, length: number, recycle: boolean): Promise<Buffer> {
  const buf = recycle && length >= RECYCLED_BYTES_MIN ? readBuffers.lend(length) : Buffer.allocUnsafe(length);
  try {
    const got = await seg.fh.read(buf, 0, length, pos);
    return got === length ? buf : buf.subarray(0, got);
  } catch (e) {
    readBuffers.giveBack(buf);
    throw e;
  }
}

/**
 * The batch at `at` (of `size` bytes) passes its magic and CRC checks. Batches ending by `checkedEnd` (the
 * segment's checked prefix, relative to `buf`) passed their CRC check in this process: only the magic is read.
 */
function intact(buf: Buffer, at: number, size: number, checkedEnd: number): boolean {
  if (buf.readInt8(at + 16) !== 2) return false; // the magic byte sits before the CRC'd region
  if (at + size <= checkedEnd) return true;
  return crc32c(buf.subarray(at + BATCH_CRC_START, at + size)) === buf.readUInt32BE(at + 17);
}

/**
 * Where in `buf` the batches covering [offset, …] start and end (within `maxBytes`). Every batch must
 * have exactly the offset after its predecessor's, starting from `expected`, the index's anchor: the
 * offset field is not covered by the CRC, so this chain is what proves a batch sits where it claims.
 * Batches passed over on the way are checked too, since their offset deltas carry the chain: `bad` then
 * says that the batch at `end` (whose offset should be `expected`) is damaged.
 */
function selectBatches(buf: Buffer, offset: number, maxBytes: number, expected: number, checkedEnd: number) {
  let at = 0;
  let start = -1;
  let startOffset = expected;
  let firstSize = 0;
  while (at + BATCH_LOG_OVERHEAD <= buf.length) {
    const size = BATCH_LOG_OVERHEAD + buf.readInt32BE(at + 8);
    if (size < BATCH_HEADER_BYTES || size > LIMITS.batchBytesMax || readInt64(buf, at) !== expected) break;
    if (at + size > buf.length) {
      if (start < 0) firstSize = size;
      break;
    }
    const delta = buf.readInt32BE(at + 23);
    if (start < 0) {
      if (delta < 0 || !intact(buf, at, size, checkedEnd))
        return { start, startOffset, end: at, firstSize, expected, bad: true };
      if (expected + delta + 1 > offset) {
        start = at;
        startOffset = expected;
      }
    } else if (at + size - start > maxBytes) break;
    expected += delta + 1;
    at += size;
  }
  return { start, startOffset, end: at, firstSize, expected, bad: false };
}

/** Bytes of the intact batches at the front of `data`. */
function intactPrefix(data: Buffer, checkedEnd: number): number {
  let at = 0;
  while (at < data.length) {
    const size = BATCH_LOG_OVERHEAD + data.readInt32BE(at + 8);
    if (!intact(data, at, size, checkedEnd)) break;
    at += size;
  }
  return at;
}

/** How a read learns about damage in the segment and where its offsets end. */
export interface ReadContext {
  damage: LogDamage;
  /** the offset after the segment's last readable batch (the next segment's base, or the log's end) */
  endOffset: number;
}

/** Where to start reading for `offset`: the index's anchor, or the end of a known damaged stretch. */
function startFor(seg: Segment, index: SegmentIndex, offset: number, damage: LogDamage) {
  const anchor = index.entryFor(offset);
  let pos = anchor.position;
  let expected = anchor.offset;
  for (const r of damage.of(seg.baseOffset)) {
    const inside = r.fromPos <= pos && pos < r.toPos;
    if (inside || (r.toOffset <= offset && r.toPos > pos)) {
      pos = r.toPos;
      expected = r.toOffset;
    }
  }
  return { pos, expected };
}

/**
 * Whole batches from the one holding `offset`, at most `maxBytes` unless the first alone is larger. When
 * that batch is damaged, the read steps over the damage (reporting it once) and returns the next intact
 * batches: their offsets then start after `offset`, and `nextOffset` is past the damage even when nothing
 * intact follows it in this segment.
 */
export async function readSegment(
  seg: Segment,
  index: SegmentIndex,
  offset: number,
  maxBytes: number,
  slackBytes: number,
  ctx: ReadContext,
  recycle = false,
): Promise<SegmentRead> {
  let { pos, expected } = startFor(seg, index, offset, ctx.damage);
  offset = Math.max(offset, expected);
  let want = Math.max(maxBytes, 1) + slackBytes;
  let atLeast = 0; // the size of the batch at `pos` when it did not fit the last read
  while (pos < seg.visibleBytes) {
    const length = readLength(seg, index, pos, maxBytes, want, atLeast);
    const buf = await readAt(seg, pos, length, recycle);
    const sel = selectBatches(buf, offset, maxBytes, expected, seg.checkedBytes - pos);
    let bad: { pos: number; expected: number; problem: string };
    if (sel.bad) {
      bad = {
        pos: pos + sel.end,
        expected: sel.expected,
        problem: "magic byte, CRC or offset delta is wrong",
      };
    } else if (sel.start >= 0) {
      const good = intactPrefix(buf.subarray(sel.start, sel.end), seg.checkedBytes - pos - sel.start);
      // every batch from the anchor on was checked: a read through the checked prefix's end extends it
      if (pos <= seg.checkedBytes) seg.checkedBytes = Math.max(seg.checkedBytes, pos + sel.start + good);
      if (good > 0) {
        const data = buf.subarray(sel.start, sel.start + good);
        const last = readBatchHeader(data, lastBatchAt(data));
        const nextOffset = last.baseOffset + last.lastOffsetDelta + 1;
        return recycle
          ? { data, nextOffset, release: () => readBuffers.giveBack(data) }
          : { data, nextOffset };
      }
      bad = { pos: pos + sel.start, expected: sel.startOffset, problem: "magic byte or CRC mismatch" };
    } else if (sel.end === 0 && (sel.firstSize === 0 || sel.firstSize > seg.visibleBytes - pos)) {
      bad = { pos, expected, problem: "batch length or offset does not fit the chain" };
    } else {
      // Batches before the offset were skipped, or the first wanted batch is larger than `want`.
      pos += sel.end;
      expected = sel.expected;
      want = Math.max(want, sel.firstSize);
      atLeast = sel.firstSize;
      readBuffers.giveBack(buf);
      continue;
    }
    readBuffers.giveBack(buf);
    const bound = { to: seg.visibleBytes, endOffset: ctx.endOffset };
    const r = await ctx.damage.resolve(seg, bad.pos, bad.expected, bound, bad.problem, "read");
    pos = r.toPos;
    expected = r.toOffset;
    offset = Math.max(offset, expected);
    atLeast = 0;
  }
  return { data: EMPTY, nextOffset: offset };
}

/**
 * How many bytes to read at `pos` (a batch start) for a read of `maxBytes`. Every index entry is a batch
 * start, so a read that ends at the last one within `maxBytes` ends where a batch ends: all it reads is
 * returned, and the next fetch starts there (before, a read of `maxBytes` + slack threw away the part of
 * the batch past the last whole one: with 1 MB batches and 1 MiB fetches, 5% of all bytes read). This
 * holds from the first wanted batch on: every entry after `pos` starts past the batch holding the wanted
 * offset (the read starts at the last entry at or before it, or past damage that ends before it), so the
 * first wanted batch lies whole before such an entry, and within `maxBytes` of where it starts. With no
 * entry there (a first batch alone larger than `maxBytes`, or small batches before a large one), the read
 * goes to the next entry when that is no further than `want` (the first batch alone, when it is larger than
 * the index interval), else it is `want` as before.
 */
function readLength(
  seg: Segment,
  index: SegmentIndex,
  pos: number,
  maxBytes: number,
  want: number,
  atLeast: number,
): number {
  const rest = seg.visibleBytes - pos; // acknowledged bytes end where a batch ends
  if (rest <= Math.max(maxBytes, atLeast)) return rest;
  let end = index.lastPositionIn(pos, pos + Math.max(maxBytes, 1));
  if (end < 0) {
    const next = index.nextPositionAfter(pos);
    end = next >= 0 && next - pos <= want ? next : pos + want;
  }
  return Math.min(Math.max(end - pos, atLeast), rest);
}

function lastBatchAt(data: Buffer): number {
  let at = 0;
  for (;;) {
    const next = at + BATCH_LOG_OVERHEAD + data.readInt32BE(at + 8);
    if (next >= data.length) return at;
    at = next;
  }
}

/** The first record in `seg` at or after `fromOffset` whose timestamp is >= `timestampMs`. */
export async function findTimestamp(
  seg: Segment,
  index: SegmentIndex,
  fromOffset: number,
  timestampMs: number,
  ctx: ReadContext,
): Promise<TimestampLookup | null> {
  let from = fromOffset;
  for (;;) {
    const candidate = await nextBatchReaching(seg, index, from, timestampMs, ctx);
    if (!candidate) return null;
    const found = await firstRecordAtOrAfter(candidate, timestampMs, from);
    if (found) return found;
    const h = readBatchHeader(candidate);
    from = h.baseOffset + h.lastOffsetDelta + 1;
  }
}

/** A copy of the first batch from `fromOffset` on whose max timestamp reaches `timestampMs`. */
async function nextBatchReaching(
  seg: Segment,
  index: SegmentIndex,
  fromOffset: number,
  timestampMs: number,
  ctx: ReadContext,
): Promise<Buffer | null> {
  let found: Buffer | null = null;
  const { pos, expected } = startFor(seg, index, fromOffset, ctx.damage);
  await walkBatches(
    seg,
    ctx.damage,
    { from: pos, to: seg.visibleBytes, expectedOffset: expected, endOffset: ctx.endOffset, foundBy: "read" },
    (b, bytes) => {
      if (b.maxTimestamp < timestampMs || b.lastOffset < fromOffset) return true;
      found = Buffer.from(bytes);
      return false;
    },
  );
  return found;
}

async function firstRecordAtOrAfter(
  batch: Buffer,
  timestampMs: number,
  fromOffset: number,
): Promise<TimestampLookup | null> {
  const h = readBatchHeader(batch);
  for (const r of await decodeBatchRecords(batch, LIMITS.decompressedBatchBytesMax)) {
    const offset = h.baseOffset + r.offsetDelta;
    const timestamp = h.baseTimestamp + r.timestampDelta;
    if (offset >= fromOffset && timestamp >= timestampMs) return { offset, timestamp };
  }
  return null;
}
