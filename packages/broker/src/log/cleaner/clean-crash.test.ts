// A crash at every step of a cleaning loses nothing: after recovery each group of segments reads either as
// it was or cleaned, every key's latest value is there, offsets chain, and a leftover copy is removed.

import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRng } from "../../lib/index.ts";
import { COMPACT, openLog, put, type Rec, readAllRecords } from "../../testing/compaction.ts";
import { FakeClock, FaultFs } from "../../testing/index.ts";
import { cleanLog } from "./clean-log.ts";
import { OffsetMap } from "./offset-map.ts";
import type { SwapStep } from "./swap.ts";

const DIR = "/data/log";

function latest(recs: readonly Rec[]): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const r of recs) if (r.key !== null) m.set(r.key, r.value);
  return m;
}

for (const at of ["copied", "committed", "replaced"] as const satisfies readonly SwapStep[]) {
  test(`a crash after the swap step "${at}" recovers a whole log`, async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const clock = new FakeClock(1_000_000);
      const fs = new FaultFs();
      const log = await openLog(DIR, clock, fs);
      for (let i = 0; i < 120; i++) await put(log, clock, `k${i % 7}`, `v${i}`, i);
      const before = await readAllRecords(log);
      let crashed: FaultFs | null = null;
      const step = async (s: SwapStep) => {
        if (s === at && crashed === null) crashed = fs.crash(seededRng(seed)); // this process dies here
      };
      await assert.rejects(cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs(), step }));
      await log.close().catch(() => undefined);
      assert.ok(crashed !== null, "the crash point was reached");

      const after: FaultFs = crashed;
      const recovered = await openLog(DIR, clock, after);
      const names = await after.readdir(DIR);
      assert.deepEqual(
        names.filter((n) => n.endsWith(".cleaned") || n.endsWith(".swap")),
        [],
        "no leftover copy",
      );
      const got = await readAllRecords(recovered);
      // the crash hit the first group's swap: groups are swapped one by one
      if (at === "copied") assert.deepEqual(got, before, `seed ${seed}: nothing was committed`);
      else assert.ok(got.length < before.length, `seed ${seed}: the committed swap is finished at recovery`);
      for (const r of got)
        assert.deepEqual(
          r,
          before.find((b) => b.offset === r.offset),
        );
      assert.deepEqual(latest(got), latest(before));
      assert.equal(recovered.endOffset, 120);
      await recovered.append(
        (await import("@spindle/protocol")).encodeRecordBatch({
          records: [{ key: Buffer.from("k"), value: Buffer.from("after") }],
          timestamp: clock.nowMs(),
        }),
      );
      assert.equal(recovered.endOffset, 121);
      await recovered.close();
    }
  });
}

test("a failed write of the copy leaves the log as it was and it cleans later", async () => {
  const clock = new FakeClock(1_000_000);
  const fs = new FaultFs();
  const log = await openLog(DIR, clock, fs);
  for (let i = 0; i < 120; i++) await put(log, clock, `k${i % 7}`, `v${i}`, i);
  const before = await readAllRecords(log);
  const step = async (s: SwapStep) => {
    if (s === "copied") throw new Error("injected failure between write and swap");
  };
  await assert.rejects(
    cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs(), step }),
    /injected/,
  );
  assert.deepEqual(await readAllRecords(log), before, "nothing changed");
  assert.ok(await cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs() }));
  assert.deepEqual(latest(await readAllRecords(log)), latest(before));
  await log.close();
  const reopened = await openLog(DIR, clock, fs);
  assert.deepEqual(
    (await fs.readdir(DIR)).filter((n) => n.endsWith(".cleaned")),
    [],
    "the copy left by the failure is gone after a restart",
  );
  await reopened.close();
});
