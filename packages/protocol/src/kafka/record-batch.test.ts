// RecordBatch v2 against bytes made by a real client's encoder (kafkajs) and against known CRC32C values.
// Round trips over random batches check that encode and decode are inverse.

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import fc from "fast-check";
import { crc32cJs } from "./crc32c.ts";
import {
  decodeRecords,
  encodeRecordBatch,
  type RecordInput,
  readBatchHeader,
  setBaseOffset,
  validateBatch,
} from "./record-batch.ts";

const require = createRequire(import.meta.url);
type Encoder = { buffer: Buffer };
const { RecordBatch: kafkajsBatch } = require("kafkajs/src/protocol/recordBatch/v0/index.js") as {
  RecordBatch: (a: object) => Promise<Encoder>;
};
const kafkajsRecord = require("kafkajs/src/protocol/recordBatch/record/v0/index.js") as (
  a: object,
) => Encoder;
const Long = require("kafkajs/src/utils/long.js") as { fromValue(v: number): unknown };

describe("record batch v2", () => {
  it("computes CRC32C check values", () => {
    assert.equal(crc32cJs(Buffer.from("123456789")), 0xe3069283);
    assert.equal(crc32cJs(Buffer.alloc(32)), 0x8a9136aa);
    assert.equal(crc32cJs(Buffer.from("56789"), crc32cJs(Buffer.from("1234"))), 0xe3069283);
  });

  it("encodes byte for byte what kafkajs encodes, and decodes kafkajs' bytes", async () => {
    const t = 1_700_000_000_123;
    const records: RecordInput[] = [
      { key: Buffer.from("user-1"), value: Buffer.from("hello"), timestamp: t },
      {
        key: null,
        value: Buffer.from("x".repeat(300)),
        timestamp: t + 5,
        headers: [{ key: "h1", value: Buffer.from("v1") }],
      },
      { key: Buffer.from(""), value: null, timestamp: t + 70_000 },
    ];
    const theirs = await kafkajsBatch({
      firstOffset: Long.fromValue(42),
      firstTimestamp: t,
      maxTimestamp: t + 70_000,
      partitionLeaderEpoch: 0,
      lastOffsetDelta: 2,
      producerId: Long.fromValue(-1),
      producerEpoch: 0,
      firstSequence: 0,
      records: records.map((r, i) =>
        kafkajsRecord({
          offsetDelta: i,
          timestampDelta: r.timestamp! - t,
          key: r.key ?? null,
          value: r.value,
          headers: Object.fromEntries((r.headers ?? []).map((h) => [h.key, h.value])),
        }),
      ),
    });
    const ours = encodeRecordBatch({
      baseOffset: 42,
      records,
      timestamp: t,
      partitionLeaderEpoch: 0,
      producerEpoch: 0,
      baseSequence: 0,
    });
    assert.equal(ours.toString("hex"), theirs.buffer.toString("hex"));
    assert.equal(validateBatch(theirs.buffer), null);
    const h = readBatchHeader(theirs.buffer);
    assert.deepEqual(
      [h.baseOffset, h.recordCount, h.lastOffsetDelta, h.maxTimestamp],
      [42, 3, 2, t + 70_000],
    );
    const decoded = decodeRecords(theirs.buffer);
    assert.deepEqual(
      decoded.map((r) => [
        r.offsetDelta,
        r.timestampDelta,
        r.key?.toString() ?? null,
        r.value?.toString() ?? null,
      ]),
      [
        [0, 0, "user-1", "hello"],
        [1, 5, null, "x".repeat(300)],
        [2, 70_000, "", null],
      ],
    );
    assert.deepEqual(decoded[1]!.headers, [{ key: "h1", value: Buffer.from("v1") }]);
  });

  it("keeps the CRC valid when the base offset is assigned", () => {
    const batch = encodeRecordBatch({ records: [{ value: Buffer.from("v") }], timestamp: 1 });
    setBaseOffset(batch, 0, 2 ** 40 + 7);
    assert.equal(validateBatch(batch), null);
    assert.equal(readBatchHeader(batch).baseOffset, 2 ** 40 + 7);
  });

  it("rejects damaged batches with a reason", () => {
    const batch = encodeRecordBatch({ records: [{ value: Buffer.from("v") }], timestamp: 1 });
    const flipped = Buffer.from(batch);
    flipped[flipped.length - 1]! ^= 1;
    assert.match(validateBatch(flipped) ?? "", /CRC mismatch/);
    assert.match(validateBatch(batch.subarray(0, 30)) ?? "", /shorter than its header/);
    assert.match(validateBatch(batch.subarray(0, batch.length - 1)) ?? "", /batchLength says/);
    const magic = Buffer.from(batch);
    magic[16] = 1;
    assert.match(validateBatch(magic) ?? "", /magic 1/);
    const truncatedRecord = Buffer.from(batch);
    truncatedRecord.writeInt32BE(5, 57); // claims 5 records, holds 1
    assert.throws(() => decodeRecords(truncatedRecord), RangeError);
  });

  it("round-trips random batches", () => {
    const bytes = fc.option(
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      { nil: null },
    );
    const record = fc.record(
      {
        key: bytes,
        value: bytes,
        timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
        headers: fc.array(
          fc.record({ key: fc.string({ maxLength: 20 }), value: bytes }, { noNullPrototype: true }),
          {
            maxLength: 3,
          },
        ),
      },
      { noNullPrototype: true },
    );
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 2 ** 50 }),
        (rs, base) => {
          const batch = encodeRecordBatch({ baseOffset: base, records: rs, timestamp: 0 });
          assert.equal(validateBatch(batch), null);
          const h = readBatchHeader(batch);
          const back = decodeRecords(batch);
          assert.equal(h.baseOffset, base);
          rs.forEach((r, i) => {
            assert.deepEqual(back[i]!.key, r.key);
            assert.deepEqual(back[i]!.value, r.value);
            assert.equal(h.baseTimestamp + back[i]!.timestampDelta, r.timestamp);
            assert.deepEqual(back[i]!.headers, r.headers);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
