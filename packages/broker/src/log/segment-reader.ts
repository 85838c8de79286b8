// Reading from one segment: whole batches from the one holding an offset, and timestamp lookups.
// Invariant: nothing is returned that failed its CRC or lies beyond the segment's acknowledged bytes.

import { crc32c } from "@node-rs/crc32";
import {
  BATCH_CRC_START,
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  readBatchHeader,
  readInt64,
} from "@spindle/protocol";
import { BrokerError, decodeBatchRecords, LIMITS } from "../lib/index.ts";
import type { TimestampLookup } from "./log.ts";
import { scanBatches } from "./scan.ts";
import type { Segment } from "./segment.ts";
import type { SegmentIndex } from "./segment-index.ts";

export interface SegmentRead {
  data: Buffer;
  nextOffset: number;
}

const EMPTY = Buffer.alloc(0);

async function readAt(seg: Segment, pos: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  const got = await seg.fh.read(buf, 0, length, pos);
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * Where in `buf` the batches covering [offset, …] start and end (within `maxBytes`). Every batch must
 * have exactly the offset after its predecessor's, starting from `expected`, the index's anchor: the
 * offset field is not covered by the CRC, so this chain is what proves a batch sits where it claims.
 */
function selectBatches(buf: Buffer, offset: number, maxBytes: number, expected: number) {
  let at = 0;
  let start = -1;
  let firstSize = 0;
  while (at + BATCH_LOG_OVERHEAD <= buf.length) {
    const size = BATCH_LOG_OVERHEAD + buf.readInt32BE(at + 8);
    if (size < BATCH_HEADER_BYTES || size > LIMITS.batchBytesMax || readInt64(buf, at) !== expected) break;
    if (at + size > buf.length) {
      if (start < 0) firstSize = size;
      break;
    }
    const next = expected + buf.readInt32BE(at + 23) + 1;
    if (start < 0 && next > offset) start = at;
    else if (start >= 0 && at + size - start > maxBytes) break;
    expected = next;
    at += size;
  }
  return { start, end: at, firstSize, expected };
}

/** Cuts `data` before its first batch that fails the magic or CRC check; throws if that is the first. */
function verified(seg: Segment, data: Buffer, pos: number): Buffer {
  let at = 0;
  while (at < data.length) {
    const size = BATCH_LOG_OVERHEAD + data.readInt32BE(at + 8);
    if (data.readInt8(at + 16) !== 2) break; // the magic byte sits before the CRC'd region
    if (crc32c(data.subarray(at + BATCH_CRC_START, at + size)) !== data.readUInt32BE(at + 17)) break;
    at += size;
  }
  if (at === 0) {
    throw new BrokerError("CORRUPT_RECORD", `batch at position ${pos} of ${seg.path()} fails its CRC`, {
      file: seg.path(),
      position: pos,
    });
  }
  return at === data.length ? data : data.subarray(0, at);
}

/** Whole batches from the one holding `offset`, at most `maxBytes` unless the first alone is larger. */
export async function readSegment(
  seg: Segment,
  index: SegmentIndex,
  offset: number,
  maxBytes: number,
  slackBytes: number,
): Promise<SegmentRead> {
  const anchor = index.entryFor(offset);
  let pos = anchor.position;
  let expected = anchor.offset;
  let want = Math.max(maxBytes, 1) + slackBytes;
  while (pos < seg.visibleBytes) {
    const buf = await readAt(seg, pos, Math.min(want, seg.visibleBytes - pos));
    const sel = selectBatches(buf, offset, maxBytes, expected);
    if (sel.start >= 0) {
      const data = verified(seg, buf.subarray(sel.start, sel.end), pos + sel.start);
      const last = readBatchHeader(data, lastBatchAt(data));
      return { data, nextOffset: last.baseOffset + last.lastOffsetDelta + 1 };
    }
    const stuck = sel.end === 0 && (sel.firstSize === 0 || sel.firstSize > seg.visibleBytes - pos);
    if (stuck) {
      throw new BrokerError("CORRUPT_RECORD", `unreadable batch at position ${pos} of ${seg.path()}`, {
        file: seg.path(),
        position: pos,
      });
    }
    // Batches before the offset were skipped, or the first wanted batch is larger than `want`.
    pos += sel.end;
    expected = sel.expected;
    want = Math.max(want, sel.firstSize);
  }
  return { data: EMPTY, nextOffset: offset };
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
): Promise<TimestampLookup | null> {
  let from = fromOffset;
  for (;;) {
    const candidate = await nextBatchReaching(seg, index, from, timestampMs);
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
): Promise<Buffer | null> {
  let found: Buffer | null = null;
  const anchor = index.entryFor(fromOffset);
  await scanBatches(
    seg.fh,
    { from: anchor.position, to: seg.visibleBytes, expectedOffset: anchor.offset, verifyCrc: true },
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
