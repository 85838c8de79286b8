// A partition read as records rather than batches (the record browser's view): stored batches decoded,
// compressed ones decompressed. Invariant: the work is bounded — at most `limit` records and `maxBytes` of
// keys, values and headers per page (one record always, however large), decompression capped per batch.

import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  CONTROL_FLAG,
  type RecordHeader,
  readBatchHeader,
  TIMESTAMP_LOG_APPEND_TIME,
} from "@spindle/protocol";
import { decodeBatchRecords, LIMITS } from "../lib/index.ts";
import type { Partition } from "./partition.ts";

export interface StoredRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface RecordPage {
  records: StoredRecord[];
  /** where the next page starts */
  nextOffset: number;
}

const READ_CHUNK_BYTES = 1024 * 1024;

function recordBytes(r: StoredRecord): number {
  let n = (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += h.key.length + (h.value?.length ?? 0);
  return n;
}

/** The stored batches in `data` (whole batches, back to back, as the log reads them). */
function* batchesIn(data: Buffer): Generator<Buffer> {
  for (let pos = 0; pos + BATCH_HEADER_BYTES <= data.length; ) {
    const size = BATCH_LOG_OVERHEAD + data.readInt32BE(pos + 8);
    yield data.subarray(pos, pos + size);
    pos += size;
  }
}

/**
 * Records from `from` on (from the start when `from` is below it). Stops at `limit` records, before a record
 * that would take the page past `maxBytes`, or at the end; `nextOffset` is then the first offset not given.
 */
export async function readRecords(
  p: Partition,
  from: number,
  limit: number,
  maxBytes: number,
): Promise<RecordPage> {
  const records: StoredRecord[] = [];
  let bytes = 0;
  let offset = Math.max(from, p.startOffset);
  while (offset < p.endOffset && records.length < limit) {
    const { data, nextOffset } = await p.log.read(offset, Math.min(READ_CHUNK_BYTES, maxBytes));
    for (const batch of batchesIn(data)) {
      const h = readBatchHeader(batch);
      if ((h.attributes & CONTROL_FLAG) !== 0) continue; // transaction markers are not records
      for (const r of await decodeBatchRecords(batch, LIMITS.decompressedBatchBytesMax)) {
        const at = h.baseOffset + r.offsetDelta;
        if (at < offset) continue; // a batch may start before the offset asked for
        const timestamp =
          (h.attributes & TIMESTAMP_LOG_APPEND_TIME) !== 0
            ? h.maxTimestamp
            : h.baseTimestamp + r.timestampDelta;
        const rec = { offset: at, timestamp, key: r.key, value: r.value, headers: r.headers };
        const size = recordBytes(rec);
        if (records.length >= limit || (records.length > 0 && bytes + size > maxBytes)) {
          return { records, nextOffset: at };
        }
        records.push(rec);
        bytes += size;
      }
    }
    // past damage the log may answer nothing but a later offset; an answer that does not move on ends the page
    if (nextOffset <= offset) break;
    offset = nextOffset;
  }
  return { records, nextOffset: Math.min(offset, p.endOffset) };
}
