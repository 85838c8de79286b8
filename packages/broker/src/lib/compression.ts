// Kafka's record-batch compression codecs: gzip, snappy (raw and xerial-framed), lz4 frame, zstd.
// Invariant: decompression never yields more than the caller's limit (a small batch cannot expand
// into gigabytes unchecked); where a codec can tell the size first, it is checked before allocating.

import { createRequire } from "node:module";
import { promisify } from "node:util";
import { gunzip, gzip } from "node:zlib";
import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  COMPRESSION_MASK,
  Compression,
  decodeRecordsSection,
  type Record,
  readBatchHeader,
} from "@spindle/protocol";
import { compressFrame, decompressFrame } from "lz4-napi";
import * as snappy from "snappyjs";
import * as zstd from "zstd-napi";
import { BrokerError } from "./errors.ts";

export type CompressionCodec = (typeof Compression)[keyof typeof Compression];

// The native binding is CommonJS without static named exports, so ESM cannot import it by name.
const { getFrameContentSize } = createRequire(import.meta.url)(
  "zstd-napi/binding.js",
) as typeof import("zstd-napi/binding.js");
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Java Kafka clients frame snappy with xerial's stream header; librdkafka sends raw blocks. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

function tooLarge(codec: string, limit: number): BrokerError {
  return new BrokerError("CORRUPT_RECORD", `${codec} data decompresses to more than ${limit} bytes`);
}

function snappyDecompress(data: Buffer, limit: number): Buffer {
  if (data.length < XERIAL_HEADER_BYTES || !data.subarray(0, 8).equals(XERIAL_MAGIC)) {
    return snappy.uncompress(data, limit);
  }
  const blocks: Buffer[] = [];
  let total = 0;
  for (let pos = XERIAL_HEADER_BYTES; pos < data.length; ) {
    if (pos + 4 > data.length) throw new RangeError("xerial snappy block length is truncated");
    const len = data.readInt32BE(pos);
    if (len < 0 || pos + 4 + len > data.length)
      throw new RangeError("xerial snappy block runs past the data");
    const block = snappy.uncompress(data.subarray(pos + 4, pos + 4 + len), limit - total);
    total += block.length;
    blocks.push(block);
    pos += 4 + len;
  }
  return Buffer.concat(blocks, total);
}

function xerialCompress(data: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const block = snappy.compress(data);
  const len = Buffer.alloc(4);
  len.writeInt32BE(block.length);
  return Buffer.concat([header, len, block]);
}

function zstdDecompress(data: Buffer, limit: number): Buffer {
  const size = getFrameContentSize(data);
  if (size !== null && size > limit) throw tooLarge("zstd", limit);
  return zstd.decompress(data);
}

/** Decompresses a records section; malformed input and oversize output become CORRUPT_RECORD. */
export async function decompress(codec: number, data: Buffer, limitBytes: number): Promise<Buffer> {
  let out: Buffer;
  try {
    if (codec === Compression.Gzip) out = await gunzipAsync(data, { maxOutputLength: limitBytes });
    else if (codec === Compression.Snappy) out = snappyDecompress(data, limitBytes);
    else if (codec === Compression.Lz4) out = await decompressFrame(data);
    else if (codec === Compression.Zstd) out = zstdDecompress(data, limitBytes);
    else if (codec === Compression.None) out = data;
    else throw new BrokerError("CORRUPT_RECORD", `unknown compression codec ${codec}`);
  } catch (e) {
    if (e instanceof BrokerError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new BrokerError("CORRUPT_RECORD", `records do not decompress (codec ${codec}): ${reason}`);
  }
  if (out.length > limitBytes) throw tooLarge(`codec ${codec}`, limitBytes);
  return out;
}

/** Compresses a records section; snappy uses xerial framing, which every Kafka client reads. */
export async function compress(codec: CompressionCodec, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case Compression.Gzip:
      return gzipAsync(data);
    case Compression.Snappy:
      return xerialCompress(data);
    case Compression.Lz4:
      return compressFrame(data);
    case Compression.Zstd:
      return zstd.compress(data);
    default:
      return data;
  }
}

/** The records of one batch, compressed or not. Throws CORRUPT_RECORD on anything malformed. */
export async function decodeBatchRecords(batch: Buffer, limitBytes: number): Promise<Record[]> {
  const h = readBatchHeader(batch);
  const section = batch.subarray(BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD + h.batchLength);
  const plain = await decompress(h.attributes & COMPRESSION_MASK, section, limitBytes);
  try {
    return decodeRecordsSection(plain, h.recordCount);
  } catch (e) {
    throw new BrokerError("CORRUPT_RECORD", `records are malformed: ${(e as Error).message}`);
  }
}
