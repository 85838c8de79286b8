// Log reads sized to whole batches: a read ends at a batch start the segment's index knows (or at the end of
// the acknowledged bytes), so a sequential consumer preads each byte once. Before, every read took
// maxBytes + slack and threw away the part past the last whole batch, which the next read read again.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FileHandle } from "../lib/index.ts";
import { FakeClock, FaultFs, hookHandle, RecordingLogger } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import { logConfig } from "./log-contract.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** FaultFs that records every read of a segment file. */
class CountingFs extends FaultFs {
  readonly reads: { path: string; pos: number; len: number }[] = [];
  override async open(path: string, mode: "r" | "rw" | "create", dsync = false): Promise<FileHandle> {
    const fh = await super.open(path, mode, dsync);
    if (!path.endsWith(".log")) return fh;
    return hookHandle(fh, {
      read: (buf, off, len, pos) => {
        this.reads.push({ path, pos, len });
        return fh.read(buf, off, len, pos);
      },
    });
  }
}

/** Where each batch of a segment file starts, and the file's end. */
function boundaries(bytes: Buffer): Set<number> {
  const at = new Set<number>([0]);
  for (let pos = 0; pos < bytes.length; ) {
    pos += 12 + bytes.readInt32BE(pos + 8);
    at.add(pos);
  }
  return at;
}

const DIR = "/data/read-size";

/** A log of batches from 300 B to 270 KiB (most larger than the index interval, some far smaller). */
async function filledLog(fs: CountingFs) {
  const clock = new FakeClock();
  const config = logConfig({ segmentBytes: 3 * MiB, indexIntervalBytes: 4096 });
  const log = await FileLog.open({ fs, dir: DIR, config, clock, logger: new RecordingLogger() });
  let seed = 7;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  let offset = 0;
  for (let b = 0; b < 80; b++) {
    const small = b % 5 === 3;
    const count = small ? 1 + (next() % 3) : 2 + (next() % 5);
    const size = small ? 300 + (next() % 500) : 5 * KiB + (next() % (40 * KiB));
    const records = Array.from({ length: count }, () => {
      const v = Buffer.allocUnsafe(size);
      for (let i = 0; i < size; i += 4) v.writeUInt32LE(next(), Math.min(i, size - 4));
      return { value: v };
    });
    await log.appendRecords(records);
    offset += count;
  }
  assert.equal(log.endOffset, offset);
  return { log, clock, config };
}

/** Reads the whole log from `from` in reads of `maxBytes`; returns the bytes answered. */
async function consume(log: FileLog, from: number, maxBytes: number): Promise<number> {
  let returned = 0;
  for (let offset = from; offset < log.endOffset; ) {
    const r = await log.read(offset, maxBytes);
    assert.ok(r.nextOffset > offset);
    returned += r.data.length;
    offset = r.nextOffset;
  }
  return returned;
}

function checkReadsEndAtBatches(fs: CountingFs): void {
  const ends = new Map<string, Set<number>>();
  for (const { path, pos, len } of fs.reads) {
    const b = ends.get(path) ?? boundaries(fs.rawFile(path)!);
    ends.set(path, b);
    assert.ok(b.has(pos + len), `the read of ${len} bytes at ${pos} of ${path} ends inside a batch`);
  }
}

describe("log reads sized to whole batches", () => {
  it("end where a batch ends, so a sequential consumer reads each byte once (active and sealed segments)", async () => {
    const fs = new CountingFs();
    const { log, clock, config } = await filledLog(fs);
    for (const maxBytes of [MiB, 300 * KiB]) {
      fs.reads.length = 0;
      const returned = await consume(log, 0, maxBytes);
      const read = fs.reads.reduce((n, r) => n + r.len, 0);
      checkReadsEndAtBatches(fs);
      assert.equal(read, returned, `maxBytes ${maxBytes}: bytes read per byte returned`);
    }
    await log.close();

    // reopened: the sealed segments' indexes come from their files
    const again = await FileLog.open({ fs, dir: DIR, config, clock, logger: new RecordingLogger() });
    fs.reads.length = 0;
    const returned = await consume(again, 0, MiB);
    checkReadsEndAtBatches(fs);
    assert.equal(
      fs.reads.reduce((n, r) => n + r.len, 0),
      returned,
    );
    await again.close();
  });

  it("end at a batch from an offset inside a batch, and still return a first batch larger than maxBytes", async () => {
    const fs = new CountingFs();
    const { log } = await filledLog(fs);
    for (const offset of [1, 5, 37, 101, log.endOffset - 2]) {
      fs.reads.length = 0;
      const r = await log.read(offset, 300 * KiB);
      checkReadsEndAtBatches(fs);
      const base = Number(r.data.readBigInt64BE(0));
      assert.ok(base <= offset && r.nextOffset > offset, `the read at ${offset} starts at its batch`);
      assert.ok(r.data.length <= 300 * KiB);
    }
    const first = 12 + fs.rawFile(`${DIR}/${"0".repeat(20)}.log`)!.readInt32BE(8);
    for (const maxBytes of [1000, first - 1000]) {
      fs.reads.length = 0;
      const whole = await log.read(0, maxBytes);
      assert.equal(whole.data.length, first, `maxBytes ${maxBytes}: the first batch, whole`);
      // within maxBytes + slack of the start, the index's next entry is where the read ends: one read
      if (maxBytes > 1000) {
        checkReadsEndAtBatches(fs);
        assert.equal(fs.reads.length, 1);
      }
    }
    await log.close();
  });
});
