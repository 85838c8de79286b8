// Recycled read buffers: one borrower at a time, a give-back counted once, idle bytes bounded; and a log
// read into recycled buffers still steps over (and reports) a damaged batch and returns only intact ones.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeRecords, readBatchHeader, validateBatch } from "@spindle/protocol";
import { FakeClock, FaultFs, RecordingLogger } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import { logConfig } from "./log-contract.ts";
import { ReadBuffers, readBuffers } from "./read-buffers.ts";

const MiB = 1024 * 1024;

describe("ReadBuffers", () => {
  it("lends a buffer to one borrower at a time and reuses it once given back", () => {
    const pool = new ReadBuffers(64 * MiB);
    const a = pool.lend(MiB);
    const b = pool.lend(MiB);
    assert.equal(a.length, MiB);
    assert.notEqual(a.buffer, b.buffer);
    pool.giveBack(a.subarray(100, 200)); // any view of it
    const c = pool.lend(MiB - 10);
    assert.equal(c.buffer, a.buffer);
    assert.equal(c.length, MiB - 10);
  });

  it("ignores a second give-back and buffers it never lent", () => {
    const pool = new ReadBuffers(64 * MiB);
    const a = pool.lend(MiB);
    pool.giveBack(a);
    pool.giveBack(a);
    pool.giveBack(Buffer.alloc(MiB));
    assert.equal(pool.idleBytes, MiB);
    const b = pool.lend(MiB);
    const c = pool.lend(MiB);
    assert.notEqual(b.buffer, c.buffer, "a buffer given back twice is lent once");
  });

  it("keeps at most its idle bound, and no buffer far larger than a read needs", () => {
    const pool = new ReadBuffers(3 * MiB);
    const lent = [pool.lend(MiB), pool.lend(MiB), pool.lend(MiB), pool.lend(MiB)];
    for (const b of lent) pool.giveBack(b);
    assert.equal(pool.idleBytes, 3 * MiB);
    const big = pool.lend(8 * MiB);
    assert.ok(!lent.some((b) => b.buffer === big.buffer));
    pool.giveBack(big); // past the bound: dropped
    assert.equal(pool.idleBytes, 3 * MiB);
    const small = new ReadBuffers(64 * MiB);
    small.giveBack(big); // not lent by this pool
    const huge = small.lend(16 * MiB);
    small.giveBack(huge);
    assert.notEqual(small.lend(MiB).buffer, huge.buffer, "a 1 MiB read does not pin a 16 MiB buffer");
  });
});

describe("a log read into recycled buffers", () => {
  it("steps over a damaged batch in a sealed segment, reports it once and returns intact batches", async () => {
    const DIR = "/data/recycled";
    const clock = new FakeClock();
    const config = logConfig({ segmentBytes: 4 * MiB, indexIntervalBytes: 4096 });
    const fs = new FaultFs();
    const first = await FileLog.open({ fs, dir: DIR, config, clock, logger: new RecordingLogger() });
    const value = (o: number) => `${o};`.repeat(600).slice(0, 3000);
    for (let o = 0; o < 3000; o += 10) {
      await first.appendRecords(Array.from({ length: 10 }, (_, k) => ({ value: Buffer.from(value(o + k)) })));
    }
    await first.close();
    const sealed = (await fs.readdir(DIR)).filter((n) => n.endsWith(".log")).map((n) => `${DIR}/${n}`)[0]!;
    const bytes = Buffer.from(fs.rawFile(sealed)!);
    const at = Math.floor(bytes.length / 2);
    let batch = 0; // the batch holding `at`
    while (batch + 12 + bytes.readInt32BE(batch + 8) <= at) batch += 12 + bytes.readInt32BE(batch + 8);
    const lost = Number(bytes.readBigInt64BE(batch));
    bytes[batch + 100]! ^= 0xff; // inside the records: the CRC covers it
    fs.setRawFile(sealed, bytes);

    const logger = new RecordingLogger();
    const log = await FileLog.open({ fs, dir: DIR, config, clock, logger });
    const seen: number[] = [];
    let recycled = 0;
    let held: { data: Buffer; release?: (() => void) | undefined; copy: Buffer } | null = null;
    for (let offset = 0; offset < log.endOffset; ) {
      const r = await log.read(offset, 700 * 1024, { recycle: true });
      if (r.release) recycled++;
      // the previous answer is still in use while this one was read: it must be untouched
      if (held) assert.ok(held.data.equals(held.copy), `the read at ${offset} overwrote the one before`);
      held?.release?.();
      held = { data: r.data, release: r.release, copy: Buffer.from(r.data) };
      for (let pos = 0; pos < r.data.length; ) {
        const b = r.data.subarray(pos, pos + 12 + r.data.readInt32BE(pos + 8));
        assert.equal(validateBatch(b), null);
        const h = readBatchHeader(b);
        for (const rec of decodeRecords(b)) {
          assert.equal(rec.value?.toString(), value(h.baseOffset + rec.offsetDelta));
          seen.push(h.baseOffset + rec.offsetDelta);
        }
        pos += b.length;
      }
      assert.ok(r.nextOffset > offset);
      offset = r.nextOffset;
    }
    held?.release?.();
    const expected = Array.from({ length: 3000 }, (_, o) => o).filter((o) => o < lost || o >= lost + 10);
    assert.deepEqual(seen, expected);
    assert.equal(log.damage.corruptBatches, 1);
    assert.equal(logger.entries.filter((e) => e.level === "error").length, 1);
    assert.ok(recycled >= 10, `reads this large fill recycled buffers (${recycled} did)`);
    assert.ok(readBuffers.idleBytes > 0, "the buffers came back for reuse");
    await log.close();
  });
});
