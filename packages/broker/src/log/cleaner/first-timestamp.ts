// How old a sealed segment's oldest records are, for max.compaction.lag.ms: the max timestamp of its first
// batch, as Kafka ages a dirty segment (LogSegment.getFirstBatchTimestamp, KIP-354), not its newest timestamp.
// Invariant: at most one header read per segment (its first batch never changes once it is sealed), and
// never later than the segment's newest timestamp (the header is not CRC-checked here: a rotten one can only
// bring a forced cleaning earlier, and the cleaning checks every batch it reads).

import {
  BATCH_HEADER_BYTES,
  BATCH_LAST_OFFSET_DELTA,
  BATCH_LOG_OVERHEAD,
  BATCH_MAX_TIMESTAMP,
  readInt64,
} from "@spindle/protocol";
import type { Segment } from "../segment.ts";
import { isFiller } from "./batch-filter.ts";

const known = new WeakMap<Segment, number>();

/**
 * The timestamp `seg` is aged by for max.compaction.lag.ms: its first record batch's max timestamp (past a
 * cleaner's leading filler, which has none), or its newest timestamp when that batch cannot be read.
 * -1 when the segment has no timestamp.
 */
export async function oldestTimestamp(seg: Segment): Promise<number> {
  let first = known.get(seg);
  if (first === undefined) {
    try {
      first = await readFirstTimestamp(seg);
      known.set(seg, first);
    } catch {
      first = -1; // deleted meanwhile, or a failed read: its newest, and the next check reads again
    }
  }
  return first >= 0 ? Math.min(first, seg.maxTimestamp) : seg.maxTimestamp;
}

/** The first record batch's max timestamp, from at most two headers at the file's start; -1 if unknown. */
async function readFirstTimestamp(seg: Segment): Promise<number> {
  const buf = Buffer.alloc(Math.min(2 * BATCH_HEADER_BYTES, seg.visibleBytes));
  seg.fh.hold();
  try {
    const got = await seg.fh.read(buf, 0, buf.length, 0);
    let at = 0;
    let expected = seg.baseOffset;
    while (at + BATCH_HEADER_BYTES <= got) {
      const size = BATCH_LOG_OVERHEAD + buf.readInt32BE(at + 8);
      if (buf.readInt8(at + 16) !== 2 || readInt64(buf, at) !== expected || size < BATCH_HEADER_BYTES) break;
      const batch = buf.subarray(at, at + BATCH_HEADER_BYTES);
      if (!isFiller(batch)) return readInt64(buf, at + BATCH_MAX_TIMESTAMP);
      expected += buf.readInt32BE(at + BATCH_LAST_OFFSET_DELTA) + 1;
      at += size;
    }
    return -1;
  } finally {
    seg.fh.release();
  }
}
