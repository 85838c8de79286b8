// Checks the record framing of a produced batch (decompressed first when compressed): a CRC-valid batch whose
// records do not parse would poison every consumer. Invariant: lengths and deltas are read in place.

import {
  BATCH_HEADER_BYTES,
  COMPRESSION_MASK,
  CONTROL_FLAG,
  type Cursor,
  readVarint,
} from "@spindle/protocol";
import { decompress, LIMITS } from "../../lib/index.ts";

function skipVarint(c: Cursor): void {
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.buf.length) throw new RangeError("varint runs past the end of the batch");
    if (((c.buf[c.pos++] as number) & 0x80) === 0) return;
  }
  throw new RangeError("varint longer than 64 bits");
}

export const isCompressed = (batch: Buffer): boolean => (batch.readInt16BE(21) & COMPRESSION_MASK) !== 0;

/** Kafka's words for a record without a key sent to a compacted topic (INVALID_RECORD, not CORRUPT_MESSAGE). */
export const KEYLESS_RECORD = "Compacted topic cannot accept message without key";

/**
 * Why an uncompressed batch's records are malformed, or null when they frame exactly (compressed: null).
 * With `requireKeys` (a compacted topic), a record without a key is refused too (control batches aside).
 */
export function recordsProblem(batch: Buffer, requireKeys = false): string | null {
  if (isCompressed(batch)) return null;
  return sectionProblem(batch, batch.subarray(BATCH_HEADER_BYTES), requireKeys);
}

/** The same check for a compressed batch, after decompressing its records (bounded by the batch limit). */
export async function compressedRecordsProblem(batch: Buffer, requireKeys = false): Promise<string | null> {
  try {
    const plain = await decompress(
      batch.readInt16BE(21) & COMPRESSION_MASK,
      batch.subarray(BATCH_HEADER_BYTES),
      LIMITS.batchBytesMax,
    );
    return sectionProblem(batch, plain, requireKeys);
  } catch (e) {
    return `records do not decompress: ${(e as Error).message}`;
  }
}

function sectionProblem(batch: Buffer, section: Buffer, requireKeys: boolean): string | null {
  const keyed = requireKeys && (batch.readInt16BE(21) & CONTROL_FLAG) === 0;
  const count = batch.readInt32BE(57);
  if (count < 1 || batch.readInt32BE(23) !== count - 1) {
    return `record count ${count} does not match last offset delta ${batch.readInt32BE(23)}`;
  }
  const c: Cursor = { buf: section, pos: 0 };
  try {
    for (let i = 0; i < count; i++) {
      const length = readVarint(c);
      const end = c.pos + length;
      if (length < 6 || end > section.length) return `record ${i} length ${length} runs past the batch`;
      c.pos++; // attributes
      skipVarint(c); // timestamp delta
      if (readVarint(c) !== i) return `record ${i} has offset delta out of sequence`;
      if (keyed && readVarint(c) < 0) return `${KEYLESS_RECORD} (record ${i} of its batch)`;
      c.pos = end;
    }
  } catch (e) {
    return (e as Error).message;
  }
  return c.pos === section.length ? null : `${section.length - c.pos} bytes after the last record`;
}
