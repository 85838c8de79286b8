// Damage on disk: truncation and bit flips in the tail, in sealed segments and in index files.
// The log must open in every case and never return a batch that fails its CRC or sits at a wrong offset.

import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { decodeRecords, readBatchHeader, validateBatch } from "@spindle/protocol";
import { FakeClock, isBrokerError, type Rng, seededRng, silentLogger } from "../lib/index.ts";
import { FaultFs, RecordingLogger } from "../testing/index.ts";
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

  it("reports what recovery cut from a torn tail: file, bytes and offsets", async () => {
    const fs = pristine.clone();
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
