// The partition bench:kafka's replay server serves: kcat's records rebuilt in memory with the record and batch
// sizes the producer used, and the whole batches a Fetch at an offset gets.
// Invariant: batches hold offsets 0 .. endOffset - 1 in order, each a valid v2 batch (CRC over all but the
// base offset, which the CRC does not cover).

import {
  batchSizeAt,
  decodeRecords,
  encodeRecordBatch,
  type FetchResponsePartitionData,
  readBatchHeader,
  setBaseOffset,
} from "@spindle/protocol";
import { request } from "../packages/broker/src/gateway/kafka/raw-client.ts";

/** A partition's batches in memory: batch i is `chunks[chunkOf[i]]` from `starts[i]` to `ends[i]`, its first
 *  offset `bases[i]`. */
export interface Partition {
  readonly topic: string;
  readonly chunks: Buffer[];
  readonly chunkOf: number[];
  readonly starts: number[];
  readonly ends: number[];
  readonly bases: number[];
  readonly endOffset: number;
}

/** how the producer batched: records per batch and bytes per record value */
export interface Batching {
  readonly perBatch: number;
  readonly valueBytes: number;
}

const SAMPLE_FETCH_BYTES = 8 * 1024 * 1024;
const BATCHES_PER_CHUNK = 64;

/**
 * How the producer batched partition 0 of `topic` (offsets 0 .. endOffset - 1) on the broker at `address`, from
 * the batches at three places (one Fetch of up to 8 MiB at the start, a third and two thirds in): the most
 * common record count, and the first record's value size.
 */
export async function sampleBatching(address: string, topic: string, endOffset: number): Promise<Batching> {
  const counts = new Map<number, number>();
  let valueBytes = -1;
  for (const at of [0, Math.floor(endOffset / 3), Math.floor((2 * endOffset) / 3)]) {
    const records = await fetchAt(address, topic, at);
    for (let pos = 0, size = batchSizeAt(records, 0); size !== null && pos + size <= records.length; ) {
      const batch = records.subarray(pos, pos + size);
      const count = readBatchHeader(batch).recordCount;
      counts.set(count, (counts.get(count) ?? 0) + 1);
      if (valueBytes < 0) valueBytes = decodeRecords(batch)[0]?.value?.length ?? 0;
      pos += size;
      size = batchSizeAt(records, pos);
    }
  }
  const perBatch = [...counts].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0];
  if (perBatch === undefined) throw new Error(`replay: no record batch in ${topic}`);
  return { perBatch, valueBytes };
}

async function fetchAt(address: string, topic: string, offset: number): Promise<Buffer> {
  const res = await request<{ responses: { partitions: FetchResponsePartitionData[] }[] }>(address, 1, 11, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: SAMPLE_FETCH_BYTES,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: [{ partition: 0, fetchOffset: BigInt(offset), partitionMaxBytes: SAMPLE_FETCH_BYTES }],
      },
    ],
    forgottenTopicsData: [],
    rackId: "",
  });
  return res.responses[0]?.partitions[0]?.records ?? Buffer.alloc(0);
}

/**
 * `records` records of `valueBytes` bytes (no key) in batches of `perBatch`, offsets from 0: every full batch
 * is a copy of one encoded batch with its base offset set (the CRC does not cover it), so building 1 GiB
 * costs two encodings and the copies.
 */
export function buildPartition(
  topic: string,
  records: number,
  { perBatch, valueBytes }: Batching,
): Partition {
  const p: Partition = {
    topic,
    chunks: [],
    chunkOf: [],
    starts: [],
    ends: [],
    bases: [],
    endOffset: records,
  };
  const value = Buffer.alloc(valueBytes, "x");
  const timestamp = Date.now();
  const encode = (count: number) =>
    encodeRecordBatch({ timestamp, records: Array.from({ length: count }, () => ({ value })) });
  const full = encode(perBatch);
  const rest = records % perBatch === 0 ? null : encode(records % perBatch);
  const batches = Math.ceil(records / perBatch);
  for (let first = 0; first < batches; first += BATCHES_PER_CHUNK) {
    const n = Math.min(BATCHES_PER_CHUNK, batches - first);
    const last = first + n === batches && rest !== null ? rest : full;
    const chunk = Buffer.allocUnsafe((n - 1) * full.length + last.length);
    for (let i = 0, pos = 0; i < n; i++) {
      const batch = i === n - 1 ? last : full;
      batch.copy(chunk, pos);
      setBaseOffset(chunk, pos, (first + i) * perBatch);
      p.chunkOf.push(p.chunks.length);
      p.starts.push(pos);
      p.ends.push(pos + batch.length);
      p.bases.push((first + i) * perBatch);
      pos += batch.length;
    }
    p.chunks.push(chunk);
  }
  return p;
}

/** Index of the batch holding `offset` (the last whose first offset is <= it). */
function batchAt(p: Partition, offset: number): number {
  let lo = 0;
  let hi = p.bases.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((p.bases[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Whole batches from `offset` up to `maxBytes` (at least one), within one chunk: a view, not a copy. */
export function recordsFrom(p: Partition, offset: number, maxBytes: number): Buffer {
  const first = batchAt(p, offset);
  const chunk = p.chunkOf[first] as number;
  const start = p.starts[first] as number;
  let last = first;
  while (p.chunkOf[last + 1] === chunk && (p.ends[last + 1] as number) - start <= maxBytes) {
    last++;
  }
  return (p.chunks[chunk] as Buffer).subarray(start, p.ends[last]);
}
