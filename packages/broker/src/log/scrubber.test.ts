// The background verifier: finds damage in a sealed segment that no read touched, at the rate it is given,
// and reports it once (a later read steps over it without a second report).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { silentLogger } from "../lib/index.ts";
import { FakeClock, FaultFs, RecordingLogger } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import { logConfig } from "./log-contract.ts";
import { Scrubber } from "./scrubber.ts";

const DIR = "/data/log";
const config = logConfig({ segmentBytes: 4096, indexIntervalBytes: 256 });

async function filledLog(): Promise<FaultFs> {
  const fs = new FaultFs();
  const log = await FileLog.open({ fs, dir: DIR, config, clock: new FakeClock(), logger: silentLogger });
  for (let i = 0; i < 200; i++) await log.appendRecords([{ value: Buffer.from(`r${i}`.padEnd(100, ".")) }]);
  await log.close();
  return fs;
}

describe("background verification of sealed segments", () => {
  it("finds a flipped byte nobody read, at the rate it is given, and reports it once", async () => {
    const fs = await filledLog();
    const names = (await fs.readdir(DIR)).filter((n) => n.endsWith(".log"));
    const sealed = names.slice(0, -1).map((n) => `${DIR}/${n}`);
    const victim = sealed[2]!;
    const bytes = Buffer.from(fs.rawFile(victim)!);
    bytes[500]! ^= 0x08;
    fs.setRawFile(victim, bytes); // the index files still match its size: nothing is found at open
    const sealedBytes = sealed.reduce((n, f) => n + fs.rawFile(f)!.length, 0);

    const clock = new FakeClock();
    const logger = new RecordingLogger();
    const bytesPerSec = 10_000;
    const scrubber = new Scrubber({ clock, logger, bytesPerSec, startDelayMs: 2_000 });
    const log = await FileLog.open({ fs, dir: DIR, config, clock, logger, scrubber });
    assert.equal(logger.entries.length, 0, "nothing is found at open");
    const began = clock.nowMs();
    scrubber.start();
    let done = false;
    void scrubber.idle().then(() => {
      done = true;
    });
    while (!done) {
      await new Promise((r) => setImmediate(r));
      if (!done) clock.advance(10);
    }
    const slept = clock.nowMs() - began;

    const reports = logger.entries.filter((e) => e.level === "error");
    assert.equal(reports.length, 1);
    assert.equal((reports[0]!.obj as { file: string }).file, victim);
    assert.equal((reports[0]!.obj as { foundBy: string }).foundBy, "verifier");
    assert.equal(log.damage.corruptBatches, 1);
    assert.equal(log.damage.verifiedBytes, sealedBytes);
    // paced: the start delay, then no faster than bytesPerSec (the last step needs no wait after it)
    const paced = slept - 2_000;
    assert.ok(
      paced >= ((sealedBytes - 4096) / bytesPerSec) * 1000,
      `slept ${paced} ms for ${sealedBytes} bytes`,
    );
    assert.ok(paced <= (sealedBytes / bytesPerSec) * 1000 + 20, `slept ${paced} ms for ${sealedBytes} bytes`);

    // reads step over what the verifier found, without reporting it again
    for (let o = log.startOffset; o < log.endOffset; ) o = (await log.read(o, 1000)).nextOffset;
    assert.equal(log.damage.corruptBatches, 1);
    await log.close();
    await scrubber.stop();
  });

  it("stop() ends a long wait at once, and a log closes in the middle of a pass", async () => {
    const fs = await filledLog();
    const clock = new FakeClock();
    const scrubber = new Scrubber({ clock, logger: silentLogger, bytesPerSec: 1, startDelayMs: 1 });
    const log = await FileLog.open({ fs, dir: DIR, config, clock, logger: silentLogger, scrubber });
    scrubber.start();
    clock.advance(1); // past the start delay: one step, then a wait of days
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await log.close();
    await scrubber.stop();
    assert.ok(log.damage.verifiedBytes > 0, "one step ran before the wait");
    assert.equal(await log.scrubStep(1 << 20), 0, "a closed log has nothing more to verify");
  });
});

describe("verification across one-offset segments", () => {
  // A segment holding one offset is followed by a segment based one higher (frequent segment.ms rolls make
  // such runs). The verifier once kept its "next segment" marker equal to that base and walked it expecting
  // offset 0: a healthy batch was recorded as damage, reads stepped over it and the cleaner dropped it.
  it("finds no damage in healthy segments of one batch each", async () => {
    const fs = new FaultFs();
    const clock = new FakeClock();
    const logger = new RecordingLogger();
    const oneEach = logConfig({ segmentBytes: 4096, segmentMs: 10 });
    const log = await FileLog.open({ fs, dir: DIR, config: oneEach, clock, logger });
    for (let i = 0; i < 6; i++) {
      await log.appendRecords([{ value: Buffer.from(`r${i}`) }]);
      clock.advance(20); // past segment.ms: the next append rolls
    }
    assert.equal(log.segmentCount, 6, "one batch per segment");
    while ((await log.scrubStep(1 << 20)) > 0) {}
    assert.deepEqual(
      logger.entries.filter((e) => e.level === "error").map((e) => e.msg),
      [],
      "no damage reported",
    );
    assert.equal(log.damage.corruptBatches, 0);
    for (let offset = 0; offset < 6; offset++) {
      const r = await log.read(offset, 1 << 20);
      assert.equal(r.data.readBigInt64BE(0), BigInt(offset), `offset ${offset} reads its own batch`);
    }
    await log.close();
  });
});
