// Unit tests of the produced-batch record check: real encoder output passes; broken framing is named.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Compression, encodeRecordBatch } from "@spindle/protocol";
import { compress } from "../../lib/index.ts";
import { compressedRecordsProblem, recordsProblem } from "./record-check.ts";

const records = Array.from({ length: 5 }, (_, i) => ({
  key: Buffer.from(`k${i}`),
  value: Buffer.from(`value-${i}`),
}));
const good = () => encodeRecordBatch({ timestamp: Date.now(), records });

test("batches from the encoder pass", () => {
  assert.equal(recordsProblem(good()), null);
  assert.equal(recordsProblem(encodeRecordBatch({ timestamp: 1, records: [{ value: null }] })), null);
});

test("a record count that disagrees with the last offset delta is refused", () => {
  const b = good();
  b.writeInt32BE(6, 57);
  assert.match(recordsProblem(b) ?? "", /record count/);
});

test("a record length that cannot hold a record is refused", () => {
  const b = good();
  b[61] = 0x02; // zig-zag 1: shorter than any record can be
  assert.match(recordsProblem(b) ?? "", /runs past|length/);
});

test("trailing bytes after the last record are refused", () => {
  const b = Buffer.concat([good(), Buffer.from([0, 0, 0])]);
  b.writeInt32BE(b.length - 12, 8);
  assert.match(recordsProblem(b) ?? "", /after the last record/);
});

test("compressed batches are checked after decompression", async () => {
  for (const codec of [Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]) {
    const plain = good();
    const packed = await compress(codec, plain.subarray(61));
    const batch = Buffer.concat([plain.subarray(0, 61), packed]);
    batch.writeInt32BE(batch.length - 12, 8);
    batch.writeInt16BE(codec, 21);
    assert.equal(recordsProblem(batch), null, "left to the async check");
    assert.equal(await compressedRecordsProblem(batch), null, `codec ${codec}`);
    const wrongCount = Buffer.from(batch);
    wrongCount.writeInt32BE(4, 57);
    wrongCount.writeInt32BE(3, 23);
    assert.match((await compressedRecordsProblem(wrongCount)) ?? "", /after the last record/);
    const garbage = Buffer.concat([plain.subarray(0, 61), Buffer.from("not compressed at all")]);
    garbage.writeInt16BE(codec, 21);
    assert.notEqual(await compressedRecordsProblem(garbage), null, `garbage under codec ${codec}`);
  }
});
