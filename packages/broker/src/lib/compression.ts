// Kafka's record-batch compression codecs: gzip, snappy (raw and xerial-framed), lz4 frame, zstd.
// Invariant: decompression never yields more than the caller's limit (a small batch cannot expand
// into gigabytes unchecked); where a codec can tell the size first, it is checked before allocating.

import { createRequire } from "node:module";
import { promisify } from "node:util";
import {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD,
  COMPRESSION_MASK,
  Compression,
  decodeRecordsSection,
  type Record,
  readBatchHeader,
} from "@spindle/protocol";
import { BrokerError } from "./errors.ts";

export type CompressionCodec = (typeof Compression)[keyof typeof Compression];

type Codec = {
  compress(data: Buffer): Buffer | Promise<Buffer>;
  /** May return more than `limit` bytes where the codec cannot stop early; the caller checks. */
  decompress(data: Buffer, limit: number): Buffer | Promise<Buffer>;
};

type Snappy = typeof import("snappyjs");

// The codec packages are CommonJS, loaded with require: the same module whether run from tsc's dist/ or from
// the CLI bundle (where a dynamic import of a bundled CommonJS module has only a default export).
const require = createRequire(import.meta.url);

/** Java Kafka clients frame snappy with xerial's stream header; librdkafka sends raw blocks. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;

function tooLarge(codec: string, limit: number): BrokerError {
  return new BrokerError("CORRUPT_RECORD", `${codec} data decompresses to more than ${limit} bytes`);
}

function snappyDecompress(snappy: Snappy, data: Buffer, limit: number): Buffer {
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

function xerialCompress(snappy: Snappy, data: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const block = snappy.compress(data);
  const len = Buffer.alloc(4);
  len.writeInt32BE(block.length);
  return Buffer.concat([header, len, block]);
}

async function loadGzip(): Promise<Codec> {
  const zlib = await import("node:zlib");
  const gzip = promisify(zlib.gzip);
  const gunzip = promisify(zlib.gunzip);
  return {
    compress: (data) => gzip(data),
    decompress: (data, limit) => gunzip(data, { maxOutputLength: limit }),
  };
}

async function loadSnappy(): Promise<Codec> {
  const snappy = require("snappyjs") as Snappy;
  return {
    compress: (data) => xerialCompress(snappy, data),
    decompress: (data, limit) => snappyDecompress(snappy, data, limit),
  };
}

async function loadLz4(): Promise<Codec> {
  const lz4 = require("lz4-napi") as typeof import("lz4-napi");
  return { compress: (data) => lz4.compressFrame(data), decompress: (data) => lz4.decompressFrame(data) };
}

async function loadZstd(): Promise<Codec> {
  const zstd = require("zstd-napi") as typeof import("zstd-napi");
  const { getFrameContentSize } = require("zstd-napi/binding.js") as typeof import("zstd-napi/binding.js");
  return {
    compress: (data) => zstd.compress(data),
    decompress: (data, limit) => {
      const size = getFrameContentSize(data);
      if (size !== null && size > limit) throw tooLarge("zstd", limit);
      return zstd.decompress(data);
    },
  };
}

/**
 * Each codec's modules are loaded the first time a batch needs them: most brokers never see most codecs,
 * and loading all four (two of them native bindings) at start was a tenth of the start-up time.
 */
const LOADERS: ReadonlyMap<number, () => Promise<Codec>> = new Map([
  [Compression.Gzip, loadGzip],
  [Compression.Snappy, loadSnappy],
  [Compression.Lz4, loadLz4],
  [Compression.Zstd, loadZstd],
]);
const loaded = new Map<number, Promise<Codec>>();

/** The codec, loaded once; a load failure (a broken install) is not the batch's fault and is not CORRUPT_RECORD. */
function codecFor(codec: number): Promise<Codec> {
  const load = LOADERS.get(codec);
  if (load === undefined) throw new BrokerError("CORRUPT_RECORD", `unknown compression codec ${codec}`);
  let promise = loaded.get(codec);
  if (promise === undefined) {
    promise = load();
    loaded.set(codec, promise);
  }
  return promise;
}

/** Decompresses a records section; malformed input and oversize output become CORRUPT_RECORD. */
export async function decompress(codec: number, data: Buffer, limitBytes: number): Promise<Buffer> {
  const out =
    codec === Compression.None ? data : await decompressWith(await codecFor(codec), codec, data, limitBytes);
  if (out.length > limitBytes) throw tooLarge(`codec ${codec}`, limitBytes);
  return out;
}

async function decompressWith(c: Codec, codec: number, data: Buffer, limitBytes: number): Promise<Buffer> {
  try {
    return await c.decompress(data, limitBytes);
  } catch (e) {
    if (e instanceof BrokerError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new BrokerError("CORRUPT_RECORD", `records do not decompress (codec ${codec}): ${reason}`);
  }
}

/** Compresses a records section; snappy uses xerial framing, which every Kafka client reads. */
export async function compress(codec: CompressionCodec, data: Buffer): Promise<Buffer> {
  if (codec === Compression.None) return data;
  return (await codecFor(codec)).compress(data);
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
