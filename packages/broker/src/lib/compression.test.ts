// Every Kafka codec round-trips, reads batches a real client (kafkajs) compressed, bounds its output,
// and turns garbage into CORRUPT_RECORD rather than a crash.

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import { BATCH_HEADER_BYTES, Compression, encodeRecordBatch } from "@spindle/protocol";
import * as snappy from "snappyjs";
import { compress, decodeBatchRecords, decompress } from "./compression.ts";
import { isBrokerError } from "./errors.ts";

const require = createRequire(import.meta.url);
const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0/index.js") as {
  RecordBatch: (a: object) => Promise<{ buffer: Buffer }>;
};
const Record = require("kafkajs/src/protocol/recordBatch/record/v0/index.js") as (a: object) => object;
const codecs = [Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd] as const;
const corrupt = (e: unknown) => isBrokerError(e, "CORRUPT_RECORD");

describe("record compression", () => {
  const data = Buffer.from(Array.from({ length: 2000 }, (_, i) => `record ${i % 97};`).join(""));

  for (const codec of codecs) {
    it(`codec ${codec} round-trips and enforces the output limit`, async () => {
      const packed = await compress(codec, data);
      assert.ok(packed.length < data.length / 2);
      assert.deepEqual(await decompress(codec, packed, data.length), data);
      await assert.rejects(decompress(codec, packed, data.length - 1), corrupt);
      await assert.rejects(decompress(codec, Buffer.from("definitely not compressed data"), 1e6), corrupt);
    });
  }

  it("reads raw snappy blocks (librdkafka) as well as xerial frames (Java clients)", async () => {
    assert.deepEqual(await decompress(Compression.Snappy, snappy.compress(data), 1e6), data);
  });

  it("decodes the records of a batch kafkajs compressed with gzip", async () => {
    const t = 1_700_000_000_000;
    const { buffer } = await RecordBatch({
      compression: Compression.Gzip,
      firstTimestamp: t,
      maxTimestamp: t + 2,
      lastOffsetDelta: 2,
      records: [0, 1, 2].map((i) =>
        Record({ offsetDelta: i, timestampDelta: i, key: null, value: Buffer.from(`v${i}`) }),
      ),
    });
    assert.equal(buffer.readInt16BE(21) & 7, Compression.Gzip);
    const records = await decodeBatchRecords(buffer, 1e6);
    assert.deepEqual(
      records.map((r) => [r.offsetDelta, r.timestampDelta, r.value?.toString()]),
      [
        [0, 0, "v0"],
        [1, 1, "v1"],
        [2, 2, "v2"],
      ],
    );
  });

  it("decodes uncompressed batches and rejects malformed records", async () => {
    const batch = encodeRecordBatch({ records: [{ value: Buffer.from("x") }], timestamp: 1 });
    assert.equal((await decodeBatchRecords(batch, 1e6))[0]?.value?.toString(), "x");
    batch.writeInt32BE(3, BATCH_HEADER_BYTES - 4); // claims three records, holds one
    await assert.rejects(decodeBatchRecords(batch, 1e6), corrupt);
  });
});
