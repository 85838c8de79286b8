// Rewriting one stored batch with only the records the cleaner keeps, and the empty batches that stand for
// offsets the cleaner removed. Invariant: a rewritten batch keeps its base offset, last offset delta, base
// timestamp, producer fields and codec, so record offsets, sequences and the log's offset chain stay as stored.

import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  COMPRESSION_MASK,
  CONTROL_FLAG,
  type Cursor,
  readInt64,
  readVarint,
  readVarlong,
  TIMESTAMP_LOG_APPEND_TIME,
  writeInt64,
} from "@spindle/protocol";
import { type CompressionCodec, compress, crc32c, decompress } from "../../lib/index.ts";

/** One record of a batch as the cleaner sees it. */
export interface CleanerRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  /** a tombstone: the value is null */
  tombstone: boolean;
}

export const isControlBatch = (batch: Buffer): boolean => (batch.readInt16BE(21) & CONTROL_FLAG) !== 0;

/** A batch that carries no record: it only says which offsets it covers (see fillerBatch). */
export const isFiller = (batch: Buffer): boolean => batch.readInt32BE(57) === 0 && !isControlBatch(batch);

interface ParsedRecord extends CleanerRecord {
  raw: Buffer;
  timestampDelta: number;
}

/** The records of a batch, decompressed, each with its raw bytes (length prefix included). */
export async function batchRecords(batch: Buffer, limitBytes: number): Promise<ParsedRecord[]> {
  const codec = batch.readInt16BE(21) & COMPRESSION_MASK;
  const end = BATCH_LOG_OVERHEAD + batch.readInt32BE(8);
  const section = await decompress(codec, batch.subarray(BATCH_HEADER_BYTES, end), limitBytes);
  const baseOffset = readInt64(batch, 0);
  const baseTimestamp = readInt64(batch, 27);
  const count = batch.readInt32BE(57);
  const c: Cursor = { buf: section, pos: 0 };
  const out: ParsedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const start = c.pos;
    const length = readVarint(c);
    const recordEnd = c.pos + length;
    if (length < 0 || recordEnd > section.length) throw new RangeError(`record ${i} runs past its batch`);
    c.pos++; // attributes
    const timestampDelta = readVarlong(c);
    const offsetDelta = readVarint(c);
    const keyLength = readVarint(c);
    const key = keyLength < 0 ? null : section.subarray(c.pos, c.pos + keyLength);
    c.pos += Math.max(0, keyLength);
    const tombstone = readVarint(c) < 0;
    out.push({
      offset: baseOffset + offsetDelta,
      timestamp: baseTimestamp + timestampDelta,
      timestampDelta,
      key,
      tombstone,
      raw: section.subarray(start, recordEnd),
    });
    c.pos = recordEnd;
  }
  return out;
}

/**
 * The batch with only the records `keep` accepts: the batch itself when it keeps all, null when it keeps
 * none, else a new batch (recompressed with the same codec) holding the kept records' bytes unchanged.
 */
export async function filterBatch(
  batch: Buffer,
  records: readonly ParsedRecord[],
  keep: (r: CleanerRecord) => boolean,
): Promise<Buffer | null> {
  const kept = records.filter(keep);
  if (kept.length === records.length) return batch;
  if (kept.length === 0) return null;
  const codec = (batch.readInt16BE(21) & COMPRESSION_MASK) as CompressionCodec;
  const section = await compress(codec, Buffer.concat(kept.map((r) => r.raw)));
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + section.length);
  batch.copy(out, 0, 0, BATCH_HEADER_BYTES);
  section.copy(out, BATCH_HEADER_BYTES);
  out.writeInt32BE(out.length - BATCH_LOG_OVERHEAD, 8);
  out.writeInt32BE(kept.length, 57);
  if ((batch.readInt16BE(21) & TIMESTAMP_LOG_APPEND_TIME) === 0) {
    const baseTimestamp = readInt64(batch, 27);
    writeInt64(out, 35, baseTimestamp + Math.max(...kept.map((r) => r.timestampDelta)));
  }
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}

/**
 * An empty batch covering offsets [from, to]: it keeps the log's offsets dense where whole batches were
 * removed, so every check of the offset chain (reads, recovery, the verifier) holds for cleaned segments.
 * Clients treat it as Kafka's empty batches: the consumer moves past its last offset.
 */
export function fillerBatch(from: number, to: number): Buffer {
  const out = Buffer.alloc(BATCH_HEADER_BYTES);
  writeInt64(out, 0, from);
  out.writeInt32BE(BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD, 8);
  out.writeInt32BE(-1, 12); // partition leader epoch
  out.writeInt8(2, 16);
  out.writeInt32BE(to - from, 23);
  writeInt64(out, 27, -1);
  writeInt64(out, 35, -1);
  writeInt64(out, 43, -1); // producer id
  out.writeInt16BE(-1, 51);
  out.writeInt32BE(-1, 53);
  out.writeInt32BE(0, 57);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}
