// Damage on disk: truncation and bit flips in the tail, in sealed segments and in index files.
// The log must open in every case and never return a batch that fails its CRC or sits at a wrong offset;
// a flipped byte in a sealed segment costs exactly the batch it is in: reads step past it and say so.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { decodeRecords, readBatchHeader, validateBatch } from "@spindle/protocol";
import { isBrokerError, type Rng, seededRng, silentLogger } from "../lib/index.ts";
import { FakeClock, FaultFs, RecordingLogger } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import { logConfig } from "./log-contract.ts";

const DIR = "/data/log";
const config = logConfig({ segmentBytes: 4096, indexIntervalBytes: 256 });
const seed = process.env.SEED ? Number(process.env.SEED) : Date.now() % 2 ** 31;
const clock = new FakeClock();
const original = new Map<number, string>();
let pristine: FaultFs;

before(async () => {
  pristine = new FaultFs();
  const log = await FileLog.open({ fs: pristine, dir: DIR, config, clock, logger: silentLogger });
  for (let i = 0; i < 300; i++) {
    const values = Array.from({ length: 1 + (i % 3) }, (_, k) =>
      `rec-${i}-${k}`.padEnd(40 + ((i * 7) % 90), "."),
    );
    const r = await log.appendRecords(values.map((v) => ({ value: Buffer.from(v) })));
    values.forEach((v, k) => {
      original.set(r.baseOffset + k, v);
    });
  }
  await log.close();
});

/** Truncates or flips bits in one file; returns a description for the failure message. */
function damage(fs: FaultFs, rng: Rng, files: string[]): string {
  const file = files[rng.int(files.length)]!;
  const bytes = Buffer.from(fs.rawFile(file)!);
  if (bytes.length === 0) return `${file}: empty, untouched`;
  if (rng.next() < 0.4) {
    const keep = rng.int(bytes.length);
    fs.setRawFile(file, bytes.subarray(0, keep));
    return `${file}: truncated to ${keep} of ${bytes.length}`;
  }
  const flips = 1 + rng.int(3);
  const at: number[] = [];
  for (let i = 0; i < flips; i++) {
    const pos = rng.int(bytes.length);
    bytes[pos]! ^= 1 << rng.int(8);
    at.push(pos);
  }
  fs.setRawFile(file, bytes);
  return `${file}: bits flipped at ${at.join(",")}`;
}

/** Reads the whole log, checking every returned batch; corrupt offsets are skipped one by one. */
async function checkEverythingReadable(log: FileLog, what: string): Promise<number> {
  let offset = log.startOffset;
  let good = 0;
  while (offset < log.endOffset) {
    let data: Buffer;
    try {
      const r = await log.read(offset, 2048);
      if (r.data.length === 0) break;
      data = r.data;
      assert.ok(r.nextOffset > offset, `${what}: read at ${offset} made no progress`);
      offset = r.nextOffset;
    } catch (e) {
      assert.ok(isBrokerError(e, "CORRUPT_RECORD"), `${what}: read failed with ${String(e)}`);
      offset++;
      continue;
    }
    for (let pos = 0; pos < data.length; ) {
      const size = 12 + data.readInt32BE(pos + 8);
      const batch = data.subarray(pos, pos + size);
      assert.equal(validateBatch(batch), null, `${what}: a returned batch fails validation`);
      const h = readBatchHeader(batch);
      for (const rec of decodeRecords(batch)) {
        const o = h.baseOffset + rec.offsetDelta;
        assert.equal(rec.value?.toString(), original.get(o), `${what}: offset ${o} holds another record`);
        good++;
      }
      pos += size;
    }
  }
  return good;
}

/** The offsets [from, to) of the batch holding file position `pos` of a segment. */
function batchAt(bytes: Buffer, pos: number): { from: number; to: number; inLeaderEpoch: boolean } {
  let at = 0;
  for (;;) {
    const size = 12 + bytes.readInt32BE(at + 8);
    if (pos < at + size) {
      const from = Number(bytes.readBigInt64BE(at));
      return {
        from,
        to: from + bytes.readInt32BE(at + 23) + 1,
        inLeaderEpoch: pos >= at + 12 && pos < at + 16,
      };
    }
    at += size;
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function pick(obj: object, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, (obj as Record<string, unknown>)[k]]));
}

/** Reads the whole log in small reads, each of which must succeed and progress; returns every offset seen. */
async function readThrough(log: FileLog, what: string): Promise<Set<number>> {
  const seen = new Set<number>();
  let offset = log.startOffset;
  while (offset < log.endOffset) {
    const r = await log.read(offset, 300);
    assert.ok(r.nextOffset > offset, `${what}: read at ${offset} made no progress`);
    for (let pos = 0; pos < r.data.length; ) {
      const size = 12 + r.data.readInt32BE(pos + 8);
      const batch = r.data.subarray(pos, pos + size);
      assert.equal(validateBatch(batch), null, `${what}: a returned batch fails validation`);
      const h = readBatchHeader(batch);
      for (const rec of decodeRecords(batch)) {
        const o = h.baseOffset + rec.offsetDelta;
        assert.equal(rec.value?.toString(), original.get(o), `${what}: offset ${o} holds another record`);
        if (o >= offset) seen.add(o);
      }
      pos += size;
    }
    offset = r.nextOffset;
  }
  return seen;
}

describe(`corruption on disk (seed ${seed})`, () => {
  it("opens and serves only intact batches after random truncations and bit flips", async () => {
    const rng = seededRng(seed);
    const files = (await pristine.readdir(DIR)).map((n) => `${DIR}/${n}`);
    const segments = files.filter((f) => f.endsWith(".log"));
    assert.ok(segments.length >= 5, `needs several sealed segments, has ${segments.length}`);
    const tail = segments.at(-1)!;
    const targets = [
      { name: "tail segment", files: [tail] },
      { name: "sealed segments", files: segments.slice(0, -1) },
      { name: "index files", files: files.filter((f) => !f.endsWith(".log")) },
    ];
    for (const target of targets) {
      for (let i = 0; i < 100; i++) {
        const fs = pristine.clone();
        const what = `${target.name} case ${i}: ${damage(fs, rng, target.files)}`;
        const logger = new RecordingLogger();
        const log = await FileLog.open({ fs, dir: DIR, config, clock, logger });
        await checkEverythingReadable(log, what);
        const appended = await log.appendRecords([{ value: Buffer.from("after") }]);
        assert.equal(appended.baseOffset, log.endOffset - 1, what);
        await log.close();
      }
    }
  });

  it("steps past one damaged batch in a sealed segment: every other batch stays readable, the loss is counted", async () => {
    const rng = seededRng(seed + 1);
    const segments = (await pristine.readdir(DIR))
      .filter((n) => n.endsWith(".log"))
      .map((n) => `${DIR}/${n}`);
    for (let i = 0; i < 150; i++) {
      const fs = pristine.clone();
      const file = segments[rng.int(segments.length - 1)]!; // sealed only
      const bytes = Buffer.from(fs.rawFile(file)!);
      const pos = rng.int(bytes.length);
      const hit = batchAt(bytes, pos);
      bytes[pos]! ^= 1 << rng.int(8);
      fs.setRawFile(file, bytes);
      // half the cases also lose the index files, so that recovery reads the segment through
      if (i % 2 === 1) for (const ext of [".index", ".timeindex"]) await fs.unlink(file.replace(".log", ext));
      const what = `case ${i}: ${file} bit flipped at ${pos} (batch of offsets ${hit.from}..${hit.to - 1})`;
      const logger = new RecordingLogger();
      const log = await FileLog.open({ fs, dir: DIR, config, clock, logger });
      const seen = await readThrough(log, what);
      const lost = [...original.keys()].filter((o) => !seen.has(o));
      if (hit.inLeaderEpoch) {
        // bytes 12-15 (partitionLeaderEpoch) are outside the CRC, as in Kafka: nothing checks them
        assert.deepEqual(lost, [], `${what}: lost offsets`);
        await log.close();
        continue;
      }
      assert.deepEqual(lost, range(hit.from, hit.to), `${what}: lost other offsets`);
      assert.equal(log.damage.corruptBatches, 1, what);
      assert.equal(log.damage.lostOffsets, hit.to - hit.from, what);
      const line = logger.entries.find((e) => e.level === "error");
      assert.ok(line, `${what}: no error logged`);
      assert.deepEqual(
        pick(line.obj, ["file", "fromOffset", "toOffset"]),
        { file, fromOffset: hit.from, toOffset: hit.to },
        what,
      );
      await readThrough(log, what); // a second pass reports nothing new
      assert.equal(log.damage.corruptBatches, 1, `${what}: reported twice`);
      await log.close();
    }
  });

  it("reports what recovery cut from a torn tail: file, bytes and offsets", async () => {
    const fs = pristine.clone();
    await fs.unlink(`${DIR}/clean-end-offset`); // a torn tail is left by a crash, not by a clean close
    const tail = (await fs.readdir(DIR)).filter((n) => n.endsWith(".log")).at(-1)!;
    const bytes = fs.rawFile(`${DIR}/${tail}`)!;
    fs.setRawFile(`${DIR}/${tail}`, bytes.subarray(0, bytes.length - 10));
    const logger = new RecordingLogger();
    const log = await FileLog.open({ fs, dir: DIR, config, clock, logger });
    const entry = logger.entries.find((e) => e.level === "warn");
    assert.ok(entry, "recovery logged the truncation");
    const obj = entry.obj as { file: string; cutBytes: number; firstCutOffset: number };
    assert.equal(obj.file, `${DIR}/${tail}`);
    assert.ok(obj.cutBytes > 10 - 1);
    assert.equal(obj.firstCutOffset, log.endOffset);
    assert.ok(log.endOffset < original.size);
    await log.close();
  });
});
