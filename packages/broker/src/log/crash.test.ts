// Property: whatever a crash keeps of unsynced writes, recovery yields dense offsets, every acknowledged
// record intact at its offset, and nothing that was never appended. SEED=… replays a failing run.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FakeClock, seededRng, silentLogger } from "../lib/index.ts";
import { FaultFs } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import type { FsyncPolicy } from "./fsync-policy.ts";
import { logConfig, readAll } from "./log-contract.ts";

const DIR = "/data/log";
const seed = process.env.SEED ? Number(process.env.SEED) : Date.now() % 2 ** 31;

type Step =
  | { kind: "append"; records: number; bytes: number }
  | { kind: "settle"; ticks: number }
  | { kind: "failSync" }
  | { kind: "crash"; ticks: number; rngSeed: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      records: fc.integer({ min: 1, max: 4 }),
      bytes: fc.integer({ min: 1, max: 300 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("settle" as const), ticks: fc.integer({ min: 0, max: 8 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "failSync" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("crash" as const),
      ticks: fc.integer({ min: 0, max: 12 }),
      rngSeed: fc.integer(),
    }),
  },
);

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Runs one scenario; returns the number of crashes it survived, or throws what went wrong. */
async function scenario(steps: Step[], fsync: FsyncPolicy): Promise<number> {
  const config = logConfig({ segmentBytes: 2048, indexIntervalBytes: 200, fsync });
  const clock = new FakeClock();
  let fs = new FaultFs();
  let log = await FileLog.open({ fs, dir: DIR, config, clock, logger: silentLogger });
  /** what the log holds (or may hold) at each offset */
  let appended = new Map<number, string>();
  const acked = new Map<number, string>();
  let nextId = 0;
  let crashes = 0;

  const recover = async (rngSeed: number) => {
    fs = fs.crash(seededRng(rngSeed));
    crashes++;
    log = await FileLog.open({ fs, dir: DIR, config, clock, logger: silentLogger });
    const found = await readAll(log, 0);
    found.forEach(([offset, v], i) => {
      assert.equal(offset, i, "offsets after recovery are dense from 0");
      assert.equal(v, appended.get(offset), `offset ${offset} holds what was appended there`);
    });
    for (const [offset, v] of acked) {
      assert.equal(found[offset]?.[1], v, `acknowledged offset ${offset} survived the crash`);
    }
    assert.equal(log.endOffset, found.length);
    appended = new Map(found.map(([o, v]) => [o, v]));
  };

  for (const step of steps) {
    if (step.kind === "append") {
      const values = Array.from({ length: step.records }, () => `r${nextId++}`.padEnd(step.bytes, "."));
      const nextOffset = () => (log as unknown as { nextOffset: number }).nextOffset;
      const base = nextOffset();
      log.appendRecords(values.map((v) => ({ value: Buffer.from(v) }))).then(
        (r) =>
          values.forEach((v, i) => {
            acked.set(r.baseOffset + i, v);
          }),
        () => {}, // refused or failed: not acknowledged
      );
      // Offsets are assigned at the call, in order: if it took them, the log may now hold these.
      if (nextOffset() === base + values.length)
        values.forEach((v, i) => {
          appended.set(base + i, v);
        });
    } else if (step.kind === "settle") {
      for (let i = 0; i < step.ticks; i++) await tick();
    } else if (step.kind === "failSync") {
      fs.failOn("datasync");
    } else {
      for (let i = 0; i < step.ticks; i++) await tick();
      await recover(step.rngSeed);
    }
  }
  await recover(1);
  await log.close();
  return crashes;
}

const scenarios = fc.array(stepArb, { minLength: 5, maxLength: 40 });

describe("crash safety of the file log", () => {
  for (const mode of ["group", "always"] as const) {
    it(`keeps every acknowledged record across random crashes (fsync ${mode}, seed ${seed})`, async () => {
      let crashes = 0;
      await fc.assert(
        fc.asyncProperty(scenarios, async (steps) => {
          crashes += await scenario(steps, { mode });
        }),
        { seed, numRuns: 400 },
      );
      assert.ok(crashes >= 1000, `ran ${crashes} crash cases`);
      console.log(`# fsync ${mode}: ${crashes} crash cases, seed ${seed}`);
    });
  }

  it("negative control: acknowledging before fsync (fsync never) is caught as loss", async () => {
    const result = await fc.check(
      fc.asyncProperty(scenarios, async (steps) => {
        await scenario(steps, { mode: "never" });
      }),
      { seed, numRuns: 250 },
    );
    assert.ok(result.failed, "the crash property must detect acknowledged-but-lost records");
    assert.match(
      String(result.errorInstance),
      /acknowledged offset \d+ survived|holds what was appended|dense/,
    );
  });
});
