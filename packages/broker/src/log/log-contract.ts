// The one behaviour suite every Log implementation must pass (memory, file on FaultFs, file on disk).
// Each implementation's test file calls runLogContract with a factory.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  BATCH_HEADER_BYTES,
  Compression,
  computeBatchCrc,
  decodeRecords,
  encodeRecordBatch,
  type RecordInput,
  readBatchHeader,
} from "@spindle/protocol";
import fc from "fast-check";
import { type CompressionCodec, compress, isBrokerError } from "../lib/index.ts";
import { FakeClock } from "../testing/index.ts";
import { DEFAULT_LOG_CONFIG, type Log, type LogConfig } from "./log.ts";

export interface LogFactory {
  /** A fresh empty log with `config` over defaults. */
  create(config: Partial<LogConfig>, clock: FakeClock): Promise<Log>;
  /** Closes and opens the same log again, where the implementation persists. */
  reopen?(log: Log, config: Partial<LogConfig>, clock: FakeClock): Promise<Log>;
}

export function logConfig(over: Partial<LogConfig>): LogConfig {
  return { ...DEFAULT_LOG_CONFIG, ...over };
}

const value = (i: number, size = 20) => Buffer.from(`v${i}-`.padEnd(size, "x"));

/** Every record in the log as [offset, value, timestamp], decoded from what read() returns. */
export async function readAll(log: Log, from = log.startOffset): Promise<[number, string, number][]> {
  const out: [number, string, number][] = [];
  let offset = from;
  while (offset < log.endOffset) {
    const r = await log.read(offset, 64 * 1024);
    assert.ok(r.data.length > 0, `read at ${offset} returned nothing before the end ${log.endOffset}`);
    for (let pos = 0; pos < r.data.length; ) {
      const h = readBatchHeader(r.data, pos);
      const batch = r.data.subarray(pos, pos + 12 + h.batchLength);
      for (const rec of decodeRecords(batch)) {
        const o = h.baseOffset + rec.offsetDelta;
        if (o >= offset) out.push([o, rec.value!.toString(), h.baseTimestamp + rec.timestampDelta]);
      }
      pos += batch.length;
    }
    offset = r.nextOffset;
  }
  return out;
}

/** A batch whose records section is compressed, as a Kafka producer sends it. */
async function compressedBatch(records: RecordInput[], codec: CompressionCodec): Promise<Buffer> {
  const plain = encodeRecordBatch({ records, timestamp: 0 });
  const packed = await compress(codec, plain.subarray(BATCH_HEADER_BYTES));
  const batch = Buffer.concat([plain.subarray(0, BATCH_HEADER_BYTES), packed]);
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeInt16BE(codec, 21);
  batch.writeUInt32BE(computeBatchCrc(batch), 17);
  return batch;
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e) => isBrokerError(e) && e.code === code);
}

export function runLogContract(name: string, factory: LogFactory): void {
  describe(`log contract: ${name}`, () => {
    it("assigns dense offsets and reads back what was appended", async () => {
      const clock = new FakeClock();
      const log = await factory.create({}, clock);
      const a = await log.appendRecords([{ value: value(0) }, { value: value(1), key: Buffer.from("k") }]);
      const b = await log.appendRecords([
        { value: value(2), headers: [{ key: "h", value: Buffer.from("x") }] },
      ]);
      assert.deepEqual([a.baseOffset, a.lastOffset, b.baseOffset, b.lastOffset], [0, 1, 2, 2]);
      assert.equal(log.endOffset, 3);
      const all = await readAll(log);
      assert.deepEqual(
        all.map(([o, v]) => [o, v]),
        [0, 1, 2].map((i) => [i, value(i).toString()]),
      );
      const second = await log.read(2, 1);
      const rec = decodeRecords(second.data)[0]!;
      assert.deepEqual(rec.headers, [{ key: "h", value: Buffer.from("x") }]);
      await log.close();
    });

    it("reads at the end return nothing; outside the log is OFFSET_OUT_OF_RANGE", async () => {
      const log = await factory.create({}, new FakeClock());
      await log.appendRecords([{ value: value(0) }]);
      const r = await log.read(1, 1000);
      assert.equal(r.data.length, 0);
      assert.equal(r.nextOffset, 1);
      await rejects(log.read(2, 1000), "OFFSET_OUT_OF_RANGE");
      await rejects(log.read(-1, 1000), "OFFSET_OUT_OF_RANGE");
      await log.close();
    });

    it("returns at least one whole batch and otherwise respects maxBytes", async () => {
      const log = await factory.create({}, new FakeClock());
      for (let i = 0; i < 10; i++) await log.appendRecords([{ value: value(i, 500) }]);
      const one = await log.read(0, 10);
      assert.equal(one.nextOffset, 1);
      const some = await log.read(3, 1500);
      assert.ok(some.data.length <= 1500, `${some.data.length} bytes`);
      assert.equal(readBatchHeader(some.data).baseOffset, 3);
      await log.close();
    });

    it("rejects a corrupt batch and one over the size limit, appending nothing", async () => {
      const log = await factory.create({ segmentBytes: 4096 }, new FakeClock());
      const bad = encodeRecordBatch({ records: [{ value: value(0) }], timestamp: 1 });
      bad[bad.length - 1]! ^= 0xff;
      await rejects(log.append(bad), "CORRUPT_RECORD");
      await rejects(log.appendRecords([{ value: Buffer.alloc(5000) }]), "MESSAGE_TOO_LARGE");
      assert.equal(log.endOffset, 0);
      await log.close();
    });

    it("rolls segments by size and by age and reads across them", async () => {
      const clock = new FakeClock();
      const log = await factory.create({ segmentBytes: 1024, segmentMs: 60_000 }, clock);
      for (let i = 0; i < 20; i++) await log.appendRecords([{ value: value(i, 200) }]);
      const bySize = log.segmentCount;
      assert.ok(bySize >= 5, `expected several segments, got ${bySize}`);
      clock.advance(60_001);
      await log.appendRecords([{ value: value(20) }]);
      await log.appendRecords([{ value: value(21) }]);
      assert.equal(log.segmentCount, bySize + 1);
      assert.deepEqual(
        (await readAll(log)).map(([o]) => o),
        Array.from({ length: 22 }, (_, i) => i),
      );
      await log.close();
    });

    it("finds any offset through the sparse index", async () => {
      const log = await factory.create({ segmentBytes: 8192, indexIntervalBytes: 256 }, new FakeClock());
      const sizes: number[] = [];
      for (let i = 0; i < 120; i++) {
        const n = 1 + (i % 3);
        sizes.push(n);
        await log.appendRecords(Array.from({ length: n }, (_, k) => ({ value: value(i * 10 + k, 40) })));
      }
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: log.endOffset - 1 }), async (offset) => {
          const r = await log.read(offset, 1);
          const h = readBatchHeader(r.data);
          assert.ok(h.baseOffset <= offset && offset <= h.baseOffset + h.lastOffsetDelta);
        }),
        { numRuns: 200 },
      );
      await log.close();
    });

    it("looks up offsets by timestamp as Kafka's ListOffsets does", async () => {
      const log = await factory.create({ segmentBytes: 2048, indexIntervalBytes: 128 }, new FakeClock());
      const stamps = [100, 105, 103, 110, 110, 120, 90, 130, 140, 135, 150];
      const expected: [number, number][] = [];
      for (let i = 0; i < 30; i++) {
        const ts = stamps[i % stamps.length]! + Math.floor(i / stamps.length) * 100;
        await log.appendRecords([{ value: value(i, 100), timestamp: ts }]);
        expected.push([i, ts]);
      }
      for (let target = 80; target <= 400; target += 3) {
        const want = expected.find(([, ts]) => ts >= target);
        const got = await log.offsetForTimestamp(target);
        assert.deepEqual(got, want ? { offset: want[0], timestamp: want[1] } : null, `target ${target}`);
      }
      await log.close();
    });

    it("finds the exact record by timestamp inside a compressed batch", async () => {
      const log = await factory.create({}, new FakeClock());
      await log.appendRecords([{ value: value(0), timestamp: 10 }]);
      const records = [20, 30, 40].map((timestamp, i) => ({ value: value(i + 1), timestamp }));
      await log.append(await compressedBatch(records, Compression.Zstd));
      assert.deepEqual(await log.offsetForTimestamp(25), { offset: 2, timestamp: 30 });
      assert.deepEqual(await log.offsetForTimestamp(40), { offset: 3, timestamp: 40 });
      assert.equal(await log.offsetForTimestamp(41), null);
      await log.close();
    });

    it("deletes whole old segments by size and by age, moving the start offset", async () => {
      const clock = new FakeClock();
      const log = await factory.create({ segmentBytes: 1024, retentionBytes: 2048, retentionMs: -1 }, clock);
      for (let i = 0; i < 40; i++) await log.appendRecords([{ value: value(i, 200) }]);
      const before = log.segmentCount;
      assert.ok((await log.enforceRetention()) > 0);
      assert.ok(log.segmentCount < before && log.sizeBytes < 2048 + 1024, `size ${log.sizeBytes}`);
      assert.ok(log.startOffset > 0);
      await rejects(log.read(0, 100), "OFFSET_OUT_OF_RANGE");
      assert.equal((await readAll(log)).at(-1)?.[0], 39);
      await log.close();

      const aging = await factory.create({ segmentBytes: 1024, retentionMs: 1000 }, clock);
      for (let i = 0; i < 10; i++) await aging.appendRecords([{ value: value(i, 200) }], clock.nowMs());
      clock.advance(5000);
      for (let i = 10; i < 20; i++) await aging.appendRecords([{ value: value(i, 200) }], clock.nowMs());
      await aging.enforceRetention();
      assert.ok(aging.startOffset > 0 && aging.startOffset <= 10, `start ${aging.startOffset}`);
      assert.ok((await readAll(aging)).every(([o, , ts]) => o < 10 || ts === clock.nowMs()));
      clock.advance(5000); // now everything is expired, the active segment too
      await aging.enforceRetention();
      assert.equal(aging.startOffset, 20);
      assert.equal(aging.endOffset, 20);
      assert.equal((await aging.appendRecords([{ value: value(20) }])).baseOffset, 20);
      await aging.close();
    });

    it("deleteRecordsBefore makes earlier offsets unreadable", async () => {
      const log = await factory.create({ segmentBytes: 1024 }, new FakeClock());
      for (let i = 0; i < 20; i++) await log.appendRecords([{ value: value(i, 200) }]);
      await log.deleteRecordsBefore(7);
      assert.equal(log.startOffset, 7);
      await rejects(log.read(6, 100), "OFFSET_OUT_OF_RANGE");
      assert.equal((await readAll(log))[0]?.[0], 7);
      await rejects(log.deleteRecordsBefore(21), "OFFSET_OUT_OF_RANGE");
      await log.close();
    });

    it("overlapping deleteRecordsBefore calls all succeed and leave the start at the largest", async () => {
      const clock = new FakeClock();
      const config = { segmentBytes: 1024 };
      let log = await factory.create(config, clock);
      for (let i = 0; i < 40; i++) await log.appendRecords([{ value: value(i, 200) }]);
      const offsets = [17, 3, 25, 9, 31, 12, 30, 5, 22, 8];
      await Promise.all(offsets.map((o) => log.deleteRecordsBefore(o)));
      assert.equal(log.startOffset, 31, "the largest offset asked for wins, whatever order they finish in");
      assert.equal((await readAll(log))[0]?.[0], 31);
      if (factory.reopen) {
        log = await factory.reopen(log, config, clock);
        assert.equal(log.startOffset, 31, "and the checkpoint on disk says so");
      }
      await log.close();
    });

    if (factory.reopen) {
      const reopen = factory.reopen;
      it("keeps everything across close and reopen, and appends after it", async () => {
        const clock = new FakeClock();
        const config = { segmentBytes: 1024, indexIntervalBytes: 128 };
        let log = await factory.create(config, clock);
        for (let i = 0; i < 30; i++) await log.appendRecords([{ value: value(i, 150) }]);
        await log.deleteRecordsBefore(3);
        const before = await readAll(log);
        log = await reopen(log, config, clock);
        assert.equal(log.startOffset, 3);
        assert.deepEqual(await readAll(log), before);
        assert.equal((await log.appendRecords([{ value: value(30) }])).baseOffset, 30);
        assert.equal((await log.offsetForTimestamp(0))?.offset, 3);
        await log.close();
      });
    }
  });
}
