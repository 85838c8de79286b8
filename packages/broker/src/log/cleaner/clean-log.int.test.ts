// The cleaner on real segment files: latest value per key, offsets kept, tombstones after their horizon,
// the compaction lag, the dirty ratio, passes under a tiny key-map budget, and the verifier afterwards.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readBatchHeader } from "@spindle/protocol";
import { nodeFs } from "../../lib/index.ts";
import { COMPACT, openLog, put, type Rec, readAllRecords } from "../../testing/compaction.ts";
import { FakeClock, tempDir } from "../../testing/index.ts";
import { fillerBatch } from "./batch-filter.ts";
import { cleanLog, dirtyState } from "./clean-log.ts";
import { OFFSET_MAP_SLOT_BYTES, OffsetMap } from "./offset-map.ts";

/** The latest record of each key among those appended (what a compacted log must keep). */
function latest(recs: readonly Rec[]): Map<string, Rec> {
  const m = new Map<string, Rec>();
  for (const r of recs) if (r.key !== null) m.set(r.key, r);
  return m;
}

test("cleaning keeps the latest record of every key at its offset, and reads, reopen and the verifier agree", async () => {
  const clock = new FakeClock(1_000_000);
  const dir = tempDir("clean");
  const log = await openLog(dir, clock);
  for (let i = 0; i < 300; i++) await put(log, clock, `k${i % 10}`, `v${i}`, i);
  const before = await readAllRecords(log);
  const sizeBefore = log.sizeBytes;
  const activeBase = log.sealedSegments().at(-1)!.nextOffset;

  const r = await cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs() });
  assert.ok(r !== null && r.cleanedTo === activeBase, "the whole sealed part was cleaned");
  const after = await readAllRecords(log);
  const sealedAfter = after.filter((x) => x.offset < activeBase);
  assert.equal(
    sealedAfter.length,
    new Set(sealedAfter.map((x) => x.key)).size,
    "one record per key below the active segment",
  );
  for (const rec of after)
    assert.deepEqual(
      rec,
      before.find((b) => b.offset === rec.offset),
      "kept records are unchanged, at their offsets",
    );
  assert.deepEqual(latest(after), latest(before), "every key's latest value is still there");
  assert.ok(log.sizeBytes < sizeBefore / 3, `the log shrank (${sizeBefore} → ${log.sizeBytes})`);
  assert.equal(log.endOffset, 300);

  await log.close();
  const reopened = await openLog(dir, clock);
  assert.deepEqual(await readAllRecords(reopened), after, "the cleaned log reads the same after a restart");
  while ((await reopened.scrubStep(1 << 20)) > 0);
  assert.equal(
    reopened.damage.corruptBatches + reopened.damage.lostOffsets,
    0,
    "the verifier finds the cleaned segments whole",
  );
  assert.ok(reopened.damage.verifiedBytes > 0);
  await reopened.append(
    (await import("@spindle/protocol")).encodeRecordBatch({
      records: [{ key: Buffer.from("k1"), value: Buffer.from("new") }],
      timestamp: clock.nowMs(),
    }),
  );
  assert.equal(reopened.endOffset, 301, "appends go on after the last offset");
  await reopened.close();
});

test("a tombstone stays until delete.retention.ms after it was written, then goes", async () => {
  const clock = new FakeClock(1_000_000);
  const dir = tempDir("tomb");
  let log = await openLog(dir, clock);
  await put(log, clock, "gone", "v", 0);
  await put(log, clock, "gone", null, 0);
  for (let i = 0; i < 60; i++) await put(log, clock, `k${i % 5}`, `v${i}`, i);
  await cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs() });
  let gone = (await readAllRecords(log)).filter((x) => x.key === "gone");
  assert.deepEqual(
    gone.map((x) => [x.offset, x.value]),
    [[1, null]],
    "the tombstone replaced the value and stays",
  );

  // no new dirt: the kept tombstone's horizon alone makes the log due (as Kafka's KIP-534), also after a
  // restart (the horizon is on disk)
  assert.equal(
    (await dirtyState(log, COMPACT, clock.nowMs())).tombstonesDueMs,
    1_000_000 + COMPACT.deleteRetentionMs,
  );
  await log.close();
  log = await openLog(dir, clock);
  assert.equal(
    await cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs() }),
    null,
    "not yet",
  );
  clock.advance(COMPACT.deleteRetentionMs + 10);
  const r = await cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs() });
  assert.ok(r !== null);
  gone = (await readAllRecords(log)).filter((x) => x.key === "gone");
  assert.deepEqual(gone, [], "past its horizon the tombstone is removed");
  assert.equal(log.startOffset, 0, "the offsets it held are still covered (by an empty batch)");
  const one = await log.read(0, 1); // one batch per read: the filler is skipped, the same segment read on
  assert.ok(one.data.length > 0 && readBatchHeader(one.data).recordCount > 0);
  const first = await log.read(0, 1 << 16);
  assert.ok(
    first.data.length > 0 && readBatchHeader(first.data).baseOffset >= 2,
    "a read at a removed offset gets the next records",
  );
  await log.close();
});

test("min.compaction.lag.ms keeps young segments out; min.cleanable.dirty.ratio waits for enough dirt", async () => {
  const clock = new FakeClock(1_000_000);
  const log = await openLog(tempDir("lag"), clock);
  for (let i = 0; i < 100; i++) await put(log, clock, `k${i % 4}`, `v${i}`, i);
  const lagged = { ...COMPACT, minCompactionLagMs: 10_000 };
  assert.equal(
    await cleanLog(log, lagged, new OffsetMap(1 << 20), { nowMs: clock.nowMs() }),
    null,
    "too young",
  );
  clock.advance(10_100);
  assert.ok(await cleanLog(log, lagged, new OffsetMap(1 << 20), { nowMs: clock.nowMs() }), "old enough");

  // a little new dirt over a clean log: below the ratio nothing happens, unless forced
  for (let i = 0; i < 40; i++) await put(log, clock, `k${i % 4}`, `w${i}`, i);
  const state = await dirtyState(log, COMPACT, clock.nowMs());
  assert.ok(state.dirtyBytes > 0, "there is new dirt");
  const strict = { ...COMPACT, minCleanableDirtyRatio: Math.min(1, state.ratio + 0.01) };
  assert.equal(await cleanLog(log, strict, new OffsetMap(1 << 20), { nowMs: clock.nowMs() }), null);
  const loose = { ...COMPACT, minCleanableDirtyRatio: state.ratio };
  assert.ok(await cleanLog(log, loose, new OffsetMap(1 << 20), { nowMs: clock.nowMs() }));
  await log.close();
});

test("a key map of a few entries cleans a log of many keys in passes", async () => {
  const clock = new FakeClock(1_000_000);
  const log = await openLog(tempDir("passes"), clock);
  for (let round = 0; round < 4; round++)
    for (let k = 0; k < 50; k++) await put(log, clock, `key-${k}`, `r${round}`, k);
  const before = await readAllRecords(log);
  const activeBase = log.sealedSegments().at(-1)!.nextOffset;
  const map = new OffsetMap(10 * OFFSET_MAP_SLOT_BYTES);
  assert.equal(map.slots, 10);
  let passes = 0;
  for (;;) {
    const r = await cleanLog(log, COMPACT, map, { nowMs: clock.nowMs(), force: true });
    if (r === null) break;
    passes++;
    assert.ok(map.size <= 9, "the map never holds more than its budget");
  }
  assert.ok(passes >= 15, `${passes} passes`);
  const after = await readAllRecords(log);
  const sealed = after.filter((x) => x.offset < activeBase);
  assert.equal(
    sealed.length,
    new Set(sealed.map((x) => x.key)).size,
    "one record per key once every pass ran",
  );
  assert.deepEqual(latest(after), latest(before));
  await log.close();
});

test("keyless records are dropped by cleaning; control batches and the active segment are left alone", async () => {
  const clock = new FakeClock(1_000_000);
  const dir = tempDir("keyless");
  const log = await openLog(dir, clock);
  for (let i = 0; i < 40; i++) await put(log, clock, i % 2 === 0 ? null : `k${i % 3}`, `v${i}`, i);
  const activeBefore = (await readAllRecords(log)).filter(
    (x) => x.offset >= log.sealedSegments().at(-1)!.nextOffset,
  );
  await cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs() });
  const after = await readAllRecords(log);
  const activeBase = log.sealedSegments().at(-1)!.nextOffset;
  assert.ok(after.filter((x) => x.offset < activeBase).every((x) => x.key !== null));
  assert.deepEqual(
    after.filter((x) => x.offset >= activeBase),
    activeBefore,
  );
  assert.ok(join(dir, "x"));
  await log.close();
});

test("segment.ms rolls an idle active segment so the cleaner can reach it", async () => {
  const clock = new FakeClock(1_000_000);
  const log = await openLog(tempDir("roll"), clock, nodeFs, { segmentMs: 5000, segmentBytes: 1 << 20 });
  for (let i = 0; i < 10; i++) await put(log, clock, "same", `v${i}`, i);
  assert.equal(await log.rollIfDue(), false);
  clock.advance(6000);
  assert.equal(await log.rollIfDue(), true);
  assert.equal(log.segmentCount, 2);
  await cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs() });
  assert.deepEqual(
    (await readAllRecords(log)).map((x) => x.offset),
    [9],
  );
  assert.equal(await log.rollIfDue(), false, "an empty active segment is not rolled");
  await log.close();
});

test("cleaning a damaged segment steps over the damage once, and the cleaned copy verifies whole", async () => {
  const clock = new FakeClock(1_000_000);
  const dir = tempDir("damaged");
  let log = await openLog(dir, clock);
  for (let i = 0; i < 100; i++) await put(log, clock, `k${i % 5}`, `v${i}`, i);
  await log.close();
  const file = join(dir, "00000000000000000000.log");
  const bytes = readFileSync(file);
  bytes[150] = (bytes[150] ?? 0) ^ 0xff; // inside the second or third batch's records
  writeFileSync(file, bytes);

  log = await openLog(dir, clock);
  const r = await cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs() });
  assert.ok(r !== null);
  assert.equal(log.damage.corruptBatches, 1, "the damage was found and reported once");
  const recs = await readAllRecords(log);
  assert.equal(new Set(recs.map((x) => x.key)).size, 5, "every key is still readable");
  while ((await log.scrubStep(1 << 20)) > 0);
  assert.equal(log.damage.corruptBatches, 1, "the cleaned copy holds no damage");
  await log.close();
});

test("max.compaction.lag.ms cleans old dirt below the dirty ratio, and rolls an active segment that old", async () => {
  const clock = new FakeClock(1_000_000);
  const log = await openLog(tempDir("maxlag"), clock, nodeFs, { segmentMs: 3_600_000 });
  for (let i = 0; i < 100; i++) await put(log, clock, `k${i % 4}`, `v${i}`, i);
  assert.ok(await cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs() }));
  for (let i = 0; i < 20; i++) await put(log, clock, `k${i % 4}`, `w${i}`, i);
  const strict = { ...COMPACT, minCleanableDirtyRatio: 0.99 };
  const lagged = { ...strict, maxCompactionLagMs: 10_000 };
  assert.equal(await log.rollIfDue(lagged.maxCompactionLagMs), false, "the active segment is young");
  clock.advance(10_100);
  assert.equal(await log.rollIfDue(lagged.maxCompactionLagMs), true, "older than the max lag: rolled");
  const state = await dirtyState(log, lagged, clock.nowMs());
  assert.ok(state.dirtyBytes > 0 && state.ratio < 0.99, `little dirt (${state.ratio})`);
  assert.equal(
    await cleanLog(log, strict, new OffsetMap(1 << 20), { nowMs: clock.nowMs() }),
    null,
    "below the ratio and no max lag: not cleaned",
  );
  assert.ok(
    await cleanLog(log, lagged, new OffsetMap(1 << 20), { nowMs: clock.nowMs() }),
    "past the max lag",
  );
  const values = (await readAllRecords(log)).map((x) => x.value?.replace(/\.+$/, ""));
  assert.deepEqual(values, ["w16", "w17", "w18", "w19"], "each key's latest value alone");
  await log.close();
});

test("max.compaction.lag.ms rolls an active segment whose first records a producer stamped long ago", async () => {
  const clock = new FakeClock(1_000_000);
  const log = await openLog(tempDir("maxlag-stamped"), clock, nodeFs, { segmentMs: 3_600_000 });
  const stamped = clock.nowMs() - 60_000; // CreateTime a minute before the segment was made
  await log.appendRecords([{ key: Buffer.from("k"), value: Buffer.from("old") }], stamped);
  await put(log, clock, "k", "new", 0);
  assert.equal(await log.rollIfDue(), false, "segment.ms still counts from the segment's creation");
  assert.equal(await log.rollIfDue(30_000), true, "its first records are past the max lag: rolled");
  assert.equal(log.segmentCount, 2);
  await log.close();
});

test("max.compaction.lag.ms ages a segment by its first batch, not its newest one (as Kafka)", async () => {
  const clock = new FakeClock(1_000_000);
  const log = await openLog(tempDir("maxlag-first"), clock, nodeFs, { segmentBytes: 1 << 20 });
  await log.append(fillerBatch(0, 1)); // as a cleaned segment may start: no timestamp (-1), skipped
  const firstMs = clock.nowMs();
  for (let i = 0; i < 8; i++) await put(log, clock, `k${i % 4}`, `v${i}`, 0);
  clock.advance(20_000);
  for (let i = 8; i < 16; i++) await put(log, clock, `k${i % 4}`, `v${i}`, 0);
  assert.ok(await log.rollIfDue(0), "sealed: one segment, its first records 20 s older than its last");
  const lagged = { ...COMPACT, minCleanableDirtyRatio: 2, maxCompactionLagMs: 30_000 }; // never by ratio
  const state = await dirtyState(log, lagged, clock.nowMs());
  clock.advance(9_000); // the first records are 29 s old
  const map = new OffsetMap(1 << 20);
  assert.equal(await cleanLog(log, lagged, map, { nowMs: clock.nowMs() }), null, "within the lag");
  clock.advance(2_000); // the first records are 31 s old, the last 11 s
  assert.ok(await cleanLog(log, lagged, map, { nowMs: clock.nowMs() }), "the first records passed the lag");
  const values = (await readAllRecords(log)).map((x) => x.value?.replace(/\.+$/, ""));
  assert.deepEqual(values, ["v12", "v13", "v14", "v15"]);
  assert.equal(state.oldestDirtyMs, firstMs, "aged by the first record batch's timestamp");
  await log.close();
});
