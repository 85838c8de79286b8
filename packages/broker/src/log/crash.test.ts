// Property: whatever a crash keeps of unsynced writes, recovery yields dense offsets, every acknowledged
// record intact at its offset, and nothing that was never appended — also when the disk fills up (partial
// writes, rejected appends whose offsets are given out again) and is freed. SEED=… replays a failing run.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isBrokerError, seededRng, silentLogger } from "../lib/index.ts";
import { FakeClock, FaultFs } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import type { FsyncPolicy } from "./fsync-policy.ts";
import { logConfig, readAll } from "./log-contract.ts";

const DIR = "/data/log";
const seed = process.env.SEED ? Number(process.env.SEED) : Date.now() % 2 ** 31;

type Step =
  | { kind: "append"; records: number; bytes: number }
  | { kind: "settle"; ticks: number }
  | { kind: "failSync" }
  | { kind: "fillDisk"; spareBytes: number }
  | { kind: "failWriteNoSpace" }
  | { kind: "freeDisk"; retryNow: boolean }
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
      kind: fc.constant("fillDisk" as const),
      spareBytes: fc.integer({ min: 0, max: 900 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "failWriteNoSpace" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("freeDisk" as const), retryNow: fc.boolean() }),
  },
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
  /** only an injected fsync failure may leave the log refusing writes for good */
  let syncFailed = false;

  const recover = async (rngSeed: number) => {
    fs = fs.crash(seededRng(rngSeed));
    fs.capacityBytes = Number.POSITIVE_INFINITY; // space was freed while the broker was down
    syncFailed = false; // the new process has a healthy disk
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

  const append = (values: string[]): Promise<unknown> => {
    const nextOffset = () => (log as unknown as { nextOffset: number }).nextOffset;
    const base = nextOffset();
    const done = log.appendRecords(values.map((v) => ({ value: Buffer.from(v) }))).then((r) =>
      values.forEach((v, i) => {
        acked.set(r.baseOffset + i, v);
      }),
    );
    // Offsets are assigned at the call, in order: if it took them, the log may now hold these (a later
    // append takes them again only after a rejection that cut them off durably).
    if (nextOffset() === base + values.length)
      values.forEach((v, i) => {
        appended.set(base + i, v);
      });
    return done;
  };

  for (const step of steps) {
    if (step.kind === "append") {
      const values = Array.from({ length: step.records }, () => `r${nextId++}`.padEnd(step.bytes, "."));
      append(values).catch(() => {}); // refused or failed: not acknowledged
    } else if (step.kind === "settle") {
      for (let i = 0; i < step.ticks; i++) await tick();
    } else if (step.kind === "failSync") {
      fs.failOn("datasync");
      syncFailed = true;
    } else if (step.kind === "fillDisk") {
      fs.capacityBytes = fs.usedBytes() + step.spareBytes;
    } else if (step.kind === "failWriteNoSpace") {
      fs.failOn("write", "ENOSPC");
    } else if (step.kind === "freeDisk") {
      fs.capacityBytes = Number.POSITIVE_INFINITY;
      fs.clearFailures();
      if (step.retryNow) void log.retryWrites();
    } else {
      for (let i = 0; i < step.ticks; i++) await tick();
      await recover(step.rngSeed);
    }
  }
  // Space is back: unless a failed fsync made the log refuse writes for good, it accepts them again without
  // a restart, at the offset after its last acknowledged batch.
  fs.capacityBytes = Number.POSITIVE_INFINITY;
  fs.clearFailures();
  await log.flush().catch(() => {}); // let the writes under way fail or succeed first
  for (let attempt = 0; attempt < 3; attempt++) {
    await log.retryWrites();
    const value = `r${nextId++}`;
    const outcome = await append([value]).then(
      () => "ok",
      (e: unknown) => (isBrokerError(e) ? e.code : String(e)),
    );
    if (outcome === "LOG_FAILED" && syncFailed) break; // a failed fsync: refused for good, as it should be
    if (outcome === "ok") break;
    assert.equal(outcome, "DISK_FULL", "appends succeed again once the disk has space");
    assert.ok(attempt < 2, "appends succeed again once the disk has space");
  }
  await recover(1);
  await append([`r${nextId++}`]);
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
        { seed, numRuns: 500 },
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
