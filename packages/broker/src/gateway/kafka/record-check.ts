// Checks the record framing of an uncompressed produced batch: a CRC-valid batch whose records do not parse
// would poison every consumer. Invariant: allocation-free (lengths and deltas read in place), cheap per record.

import { COMPRESSION_MASK, type Cursor, readVarint } from "@spindle/protocol";

const RECORDS_AT = 61;

function skipVarint(c: Cursor): void {
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.buf.length) throw new RangeError("varint runs past the end of the batch");
    if (((c.buf[c.pos++] as number) & 0x80) === 0) return;
  }
  throw new RangeError("varint longer than 64 bits");
}

/** Why the batch's records are malformed, or null when they frame exactly (compressed batches: null). */
export function recordsProblem(batch: Buffer): string | null {
  if ((batch.readInt16BE(21) & COMPRESSION_MASK) !== 0) return null;
  const count = batch.readInt32BE(57);
  if (count < 1 || batch.readInt32BE(23) !== count - 1) {
    return `record count ${count} does not match last offset delta ${batch.readInt32BE(23)}`;
  }
  const c: Cursor = { buf: batch, pos: RECORDS_AT };
  try {
    for (let i = 0; i < count; i++) {
      const length = readVarint(c);
      const end = c.pos + length;
      if (length < 6 || end > batch.length) return `record ${i} length ${length} runs past the batch`;
      c.pos++; // attributes
      skipVarint(c); // timestamp delta
      if (readVarint(c) !== i) return `record ${i} has offset delta out of sequence`;
      c.pos = end;
    }
  } catch (e) {
    return (e as Error).message;
  }
  return c.pos === batch.length ? null : `${batch.length - c.pos} bytes after the last record`;
}
