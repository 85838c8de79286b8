// Kafka RecordBatch v2 (magic 2): the on-disk and on-wire record format of every Spindle log.
// Invariant: the CRC32C covers bytes from `attributes` to the end, so assigning baseOffset needs no new CRC.

import { type Crc32c, crc32cJs } from "./crc32c.ts";
import { readInt64, writeInt64 } from "./int64.ts";
import {
  type Cursor,
  readVarint,
  readVarlong,
  varintSize,
  varlongSize,
  writeVarint,
  writeVarlong,
} from "./varint.ts";

/** Bytes before the first record. */
export const BATCH_HEADER_BYTES = 61;
/** baseOffset (8) + batchLength (4): batchLength counts the bytes after these. */
export const BATCH_LOG_OVERHEAD = 12;
/** Where the CRC'd region starts (the attributes field). */
export const BATCH_CRC_START = 21;
/** Positions of the fields the log reads on every append. */
export const BATCH_LAST_OFFSET_DELTA = 23;
export const BATCH_MAX_TIMESTAMP = 35;

export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_LOG_APPEND_TIME = 0x08;
export const TRANSACTIONAL_FLAG = 0x10;
export const CONTROL_FLAG = 0x20;

export const Compression = { None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 } as const;

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface Record {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** What a producer supplies: offsets are assigned by the log, timestamps default to now. */
export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  timestamp?: number;
}

export interface BatchInput {
  baseOffset?: number;
  records: readonly RecordInput[];
  /** used for records without their own timestamp */
  timestamp: number;
  attributes?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  partitionLeaderEpoch?: number;
}

export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  if (buf.length - pos < BATCH_HEADER_BYTES) throw new RangeError("record batch header is truncated");
  return {
    baseOffset: readInt64(buf, pos),
    batchLength: buf.readInt32BE(pos + 8),
    partitionLeaderEpoch: buf.readInt32BE(pos + 12),
    magic: buf.readInt8(pos + 16),
    crc: buf.readUInt32BE(pos + 17),
    attributes: buf.readInt16BE(pos + 21),
    lastOffsetDelta: buf.readInt32BE(pos + 23),
    baseTimestamp: readInt64(buf, pos + 27),
    maxTimestamp: readInt64(buf, pos + 35),
    producerId: readInt64(buf, pos + 43),
    producerEpoch: buf.readInt16BE(pos + 51),
    baseSequence: buf.readInt32BE(pos + 53),
    recordCount: buf.readInt32BE(pos + 57),
  };
}

/** Total bytes of the batch starting at `pos`, or null when the 12-byte prefix is not all there. */
export function batchSizeAt(buf: Buffer, pos = 0): number | null {
  if (buf.length - pos < BATCH_LOG_OVERHEAD) return null;
  return BATCH_LOG_OVERHEAD + buf.readInt32BE(pos + 8);
}

export function setBaseOffset(buf: Buffer, pos: number, offset: number): void {
  writeInt64(buf, pos, offset);
}

export function computeBatchCrc(batch: Buffer, crc32c: Crc32c = crc32cJs): number {
  return crc32c(batch.subarray(BATCH_CRC_START));
}

/**
 * Checks that `batch` is exactly one well-formed v2 batch with a matching CRC. Returns a reason
 * string when it is not (for the caller's error message), or null when it is.
 */
export function validateBatch(batch: Buffer, crc32c: Crc32c = crc32cJs): string | null {
  if (batch.length < BATCH_HEADER_BYTES) return `batch of ${batch.length} bytes is shorter than its header`;
  const size = BATCH_LOG_OVERHEAD + batch.readInt32BE(8);
  if (size !== batch.length) return `batchLength says ${size} bytes but ${batch.length} were given`;
  const magic = batch.readInt8(16);
  if (magic !== 2) return `magic ${magic} is not supported (only record batch v2)`;
  const count = batch.readInt32BE(57);
  if (count < 0) return `negative record count ${count}`;
  if (batch.readInt32BE(23) < 0) return "negative lastOffsetDelta";
  const crc = computeBatchCrc(batch, crc32c);
  const stored = batch.readUInt32BE(17);
  if (crc !== stored) return `CRC mismatch: stored ${stored.toString(16)}, computed ${crc.toString(16)}`;
  return null;
}

/** UTF-8 length of a header key; keys are short, usually ASCII, so a loop beats a native call. */
function keyBytes(key: string): number {
  if (key.length > 32) return Buffer.byteLength(key);
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0x7f) return Buffer.byteLength(key);
  return key.length;
}

function recordBodySize(r: RecordInput, offsetDelta: number, timestampDelta: number): number {
  const key = r.key ?? null;
  let n = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta);
  n += key === null ? 1 : varintSize(key.length) + key.length;
  n += r.value === null ? 1 : varintSize(r.value.length) + r.value.length;
  const headers = r.headers;
  if (headers === undefined) return n + 1;
  n += varintSize(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i] as RecordHeader;
    const k = keyBytes(h.key);
    n += varintSize(k) + k + (h.value === null ? 1 : varintSize(h.value.length) + h.value.length);
  }
  return n;
}

function writeBytes(buf: Buffer, pos: number, data: Buffer | null): number {
  if (data === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, data.length);
  if (data.length <= 16) for (let i = 0; i < data.length; i++) buf[pos + i] = data[i] as number;
  else buf.set(data, pos);
  return pos + data.length;
}

function writeKey(buf: Buffer, pos: number, key: string): number {
  const n = keyBytes(key);
  pos = writeVarint(buf, pos, n);
  if (n === key.length) for (let i = 0; i < n; i++) buf[pos + i] = key.charCodeAt(i);
  else buf.write(key, pos, n, "utf8");
  return pos + n;
}

/** Encodes an uncompressed batch with its CRC. */
export function encodeRecordBatch(input: BatchInput, crc32c: Crc32c = crc32cJs): Buffer {
  const records = input.records;
  const count = records.length;
  if (count === 0) throw new RangeError("a record batch needs at least one record");
  let baseTimestamp = Number.POSITIVE_INFINITY;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const ts = (records[i] as RecordInput).timestamp ?? input.timestamp;
    if (ts < baseTimestamp) baseTimestamp = ts;
    if (ts > maxTimestamp) maxTimestamp = ts;
  }
  const sizes = new Array<number>(count);
  let total = BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const r = records[i] as RecordInput;
    const size = recordBodySize(r, i, (r.timestamp ?? input.timestamp) - baseTimestamp);
    sizes[i] = size;
    total += varintSize(size) + size;
  }
  const buf = Buffer.allocUnsafe(total);
  writeInt64(buf, 0, input.baseOffset ?? 0);
  buf.writeInt32BE(total - BATCH_LOG_OVERHEAD, 8);
  buf.writeInt32BE(input.partitionLeaderEpoch ?? -1, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(input.attributes ?? 0, 21);
  buf.writeInt32BE(count - 1, 23);
  writeInt64(buf, 27, baseTimestamp);
  writeInt64(buf, 35, maxTimestamp);
  writeInt64(buf, 43, input.producerId ?? -1);
  buf.writeInt16BE(input.producerEpoch ?? -1, 51);
  buf.writeInt32BE(input.baseSequence ?? -1, 53);
  buf.writeInt32BE(count, 57);
  let pos = BATCH_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    const r = records[i] as RecordInput;
    pos = writeVarint(buf, pos, sizes[i] as number);
    buf[pos++] = 0;
    pos = writeVarlong(buf, pos, (r.timestamp ?? input.timestamp) - baseTimestamp);
    pos = writeVarint(buf, pos, i);
    pos = writeBytes(buf, pos, r.key ?? null);
    pos = writeBytes(buf, pos, r.value);
    const headers = r.headers;
    if (headers === undefined) {
      buf[pos++] = 0;
      continue;
    }
    pos = writeVarint(buf, pos, headers.length);
    for (let j = 0; j < headers.length; j++) {
      const h = headers[j] as RecordHeader;
      pos = writeKey(buf, pos, h.key);
      pos = writeBytes(buf, pos, h.value);
    }
  }
  buf.writeUInt32BE(computeBatchCrc(buf, crc32c), 17);
  return buf;
}

function readBytes(c: Cursor): Buffer | null {
  const len = readVarint(c);
  if (len < 0) return null;
  if (c.pos + len > c.buf.length) throw new RangeError("record field runs past the end of the batch");
  const out = c.buf.subarray(c.pos, c.pos + len);
  c.pos += len;
  return out;
}

/** Decodes the records of one uncompressed batch; values are views into `batch`. */
export function decodeRecords(batch: Buffer): Record[] {
  const header = readBatchHeader(batch);
  if ((header.attributes & COMPRESSION_MASK) !== Compression.None) {
    throw new RangeError("decodeRecords needs an uncompressed batch; decompress the records section first");
  }
  return decodeRecordsSection(
    batch.subarray(BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD + header.batchLength),
    header.recordCount,
  );
}

/** Decodes `count` records from a records section (after decompression, if any). */
export function decodeRecordsSection(section: Buffer, count: number): Record[] {
  const c: Cursor = { buf: section, pos: 0 };
  const out: Record[] = [];
  for (let i = 0; i < count; i++) {
    const length = readVarint(c);
    const end = c.pos + length;
    if (length < 0 || end > section.length)
      throw new RangeError(`record ${i} length ${length} is out of bounds`);
    c.pos++; // attributes: unused in v2
    const timestampDelta = readVarlong(c);
    const offsetDelta = readVarint(c);
    const key = readBytes(c);
    const value = readBytes(c);
    const headerCount = readVarint(c);
    if (headerCount < 0 || headerCount > length)
      throw new RangeError(`record ${i} has ${headerCount} headers`);
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const k = readBytes(c);
      if (k === null) throw new RangeError("record header key is null");
      headers.push({ key: k.toString("utf8"), value: readBytes(c) });
    }
    if (c.pos !== end)
      throw new RangeError(`record ${i} declares ${length} bytes but uses ${c.pos - (end - length)}`);
    out.push({ offsetDelta, timestampDelta, key, value, headers });
  }
  return out;
}
