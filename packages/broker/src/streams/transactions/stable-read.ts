// read_committed reads: stored batches cut at the last stable offset.
// Invariant: no batch at or past the limit is returned; batches before it are returned whole, unchanged.

import { BATCH_LOG_OVERHEAD, readInt64 } from "@spindle/protocol";

/** The leading batches of `data` that start below `limit` (a view, no copy). */
export function batchesBelow(data: Buffer, limit: number): Buffer {
  let pos = 0;
  while (pos + BATCH_LOG_OVERHEAD <= data.length) {
    if (readInt64(data, pos) >= limit) break;
    pos += BATCH_LOG_OVERHEAD + data.readInt32BE(pos + 8);
  }
  return pos >= data.length ? data : data.subarray(0, pos);
}
