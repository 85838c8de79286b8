// Reads in the middle of their disk reads while the cleaner swaps segments in: a read at any offset returns
// first no later record than the first one at or after that offset that the log holds both before and after
// the cleaning (a kept record is never stepped over); a timestamp lookup likewise answers no later record
// than the first new enough one kept. Real files; every read or lookup is held at its first file read
// through the injected Fs while a whole cleaning runs.

import assert from "node:assert/strict";
import { test } from "node:test";
import { type FileHandle, type Fs, nodeFs } from "../../lib/index.ts";
import { COMPACT, openLog, put, type Rec, readAllRecords } from "../../testing/compaction.ts";
import { FakeClock, hookHandle, tempDir } from "../../testing/index.ts";
import type { FileLog } from "../file-log.ts";
import { batchRecords } from "./batch-filter.ts";
import { cleanLog } from "./clean-log.ts";
import { OffsetMap } from "./offset-map.ts";

/** nodeFs whose file reads, while it holds, wait until released (a read's first disk read stops it). */
class GateFs {
  private holding = false;
  private readonly held: (() => void)[] = [];
  private onHeld: (() => void) | null = null;
  readonly fs: Fs = { ...nodeFs, open: async (p, m, d) => this.gated(await nodeFs.open(p, m, d)) };

  hold(): void {
    this.holding = true;
  }

  /** Resolves once `n` reads wait at the gate; reads started from then on pass. */
  async heldReads(n: number): Promise<void> {
    while (this.held.length < n) await new Promise<void>((r) => (this.onHeld = r));
    this.holding = false;
  }

  release(): void {
    for (const go of this.held.splice(0)) go();
  }

  private gated(fh: FileHandle): FileHandle {
    const read: FileHandle["read"] = async (buf, off, len, pos) => {
      if (this.holding) {
        await new Promise<void>((go) => {
          this.held.push(go);
          this.onHeld?.();
        });
      }
      return fh.read(buf, off, len, pos);
    };
    return hookHandle(fh, { read });
  }
}

const KEYS = 7;
/** appends are not what is tested: no fsync per append keeps the test fast */
const NO_SYNC = { fsync: { mode: "never" } };

/** A log cleaned once (so sealed segments start and end with fillers), then written to again. */
async function dirtyLog(clock: FakeClock, fs: Fs): Promise<FileLog> {
  const log = await openLog(tempDir("read-swap"), clock, fs, NO_SYNC);
  const at = (i: number, key: string) => put(log, clock, key, `v${i}`, i);
  let i = 0;
  for (; i < 80; i++) await at(i, `k${i % KEYS}`);
  assert.ok(await cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs() }));
  // keys written only here keep records inside the next cleaning's first group, past its old segments
  for (; i < 100; i++) await at(i, `a${i % 4}`);
  for (; i < 140; i++) await at(i, `k${i % KEYS}`);
  return log;
}

/** Runs `lookups` (each stopped at its first disk read) across one whole cleaning; the offsets before and after. */
async function acrossCleaning<T>(log: FileLog, clock: FakeClock, gate: GateFs, lookups: () => Promise<T>[]) {
  const before = new Set((await readAllRecords(log)).map((r: Rec) => r.offset));
  gate.hold();
  const pending = lookups();
  await gate.heldReads(pending.length);
  const cleaned = await cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs(), force: true });
  assert.ok(cleaned !== null && cleaned.groups > 1, "segments were swapped while the reads waited");
  gate.release();
  const results = await Promise.all(pending);
  const after = (await readAllRecords(log)).map((r) => r.offset);
  /** the first offset from `o` on that the log held before and holds after */
  const keptFrom = (o: number) => after.find((k) => k >= o && before.has(k)) ?? null;
  return { results, keptFrom };
}

async function firstRecordFrom(data: Buffer, offset: number): Promise<number | null> {
  for (let at = 0; at < data.length; at += 12 + data.readInt32BE(at + 8)) {
    const batch = data.subarray(at, at + 12 + data.readInt32BE(at + 8));
    for (const r of await batchRecords(batch, 1 << 20)) if (r.offset >= offset) return r.offset;
  }
  return null;
}

test("reads held on disk while the cleaner swaps segments never step over a kept record", async () => {
  const clock = new FakeClock(1_000_000);
  const gate = new GateFs();
  const log = await dirtyLog(clock, gate.fs);
  const offsets = Array.from({ length: log.endOffset }, (_, o) => o);
  const { results, keptFrom } = await acrossCleaning(log, clock, gate, () =>
    offsets.map((o) => log.read(o, 200)),
  );
  const skipped: string[] = [];
  for (const [o, r] of results.entries()) {
    const kept = keptFrom(o);
    const got = await firstRecordFrom(r.data, o);
    if (kept !== null && (got === null || got > kept))
      skipped.push(`read at ${o} returned ${got}, ${kept} is kept`);
  }
  assert.deepEqual(skipped, []);
  await log.close();
});

/** Record timestamps: the one below the start offset is the newest of all; keyed records are older. */
const TS = {
  belowStart: 9_000,
  unique: (i: number) => 2_000 + i * 10,
  keyed: (i: number) => 1_000 + (i % 4),
};

/**
 * A log whose first segment holds the newest timestamp only below the start offset, so a lookup reads it
 * and finds nothing there; records with unique keys (which every cleaning keeps) follow in the next
 * segments. Cleaned once (its sealed segments are small: a cleaning groups them), then written to again.
 * Returns each offset's timestamp.
 */
async function trimmedLog(clock: FakeClock, fs: Fs): Promise<{ log: FileLog; timestamps: number[] }> {
  const log = await openLog(tempDir("timestamp-swap"), clock, fs, NO_SYNC);
  const timestamps: number[] = [];
  const at = async (key: string, timestamp: number) => {
    timestamps.push(timestamp);
    await log.appendRecords([{ key: Buffer.from(key), value: Buffer.from("v".padEnd(40, ".")) }], timestamp);
  };
  await at("first", TS.belowStart);
  let i = 1;
  for (; i < 80; i++) await (i % 10 === 0 ? at(`u${i}`, TS.unique(i)) : at(`k${i % KEYS}`, TS.keyed(i)));
  await log.deleteRecordsBefore(1);
  assert.ok(await cleanLog(log, COMPACT, new OffsetMap(1 << 20), { nowMs: clock.nowMs() }));
  for (; i < 120; i++) await at(`k${i % KEYS}`, TS.keyed(i));
  return { log, timestamps };
}

test("timestamp lookups held on disk while the cleaner swaps segments never step over a kept record", async () => {
  const clock = new FakeClock(1_000_000);
  const gate = new GateFs();
  const { log, timestamps } = await trimmedLog(clock, gate.fs);
  assert.equal(log.startOffset, 1);
  assert.ok(log.segmentCount > 4);
  // every target reaches the first segment's newest timestamp, so every lookup reads it from disk
  const targets = [TS.keyed(2), TS.unique(10), TS.unique(10) + 1, TS.unique(40), TS.unique(70)];
  const { results, keptFrom } = await acrossCleaning(log, clock, gate, () =>
    targets.map((t) => log.offsetForTimestamp(t)),
  );
  const wrong: string[] = [];
  for (const [n, target] of targets.entries()) {
    const got = results[n]!;
    // the first record from the start on, held before and after the cleaning, that is new enough
    let want: number | null = null;
    for (let o = keptFrom(log.startOffset); o !== null; o = keptFrom(o + 1)) {
      if (timestamps[o]! >= target) {
        want = o;
        break;
      }
    }
    const fits = got !== null && got.timestamp === timestamps[got.offset] && got.timestamp >= target;
    if (want !== null && !(fits && got.offset >= log.startOffset && got.offset <= want))
      wrong.push(
        `lookup of ${target} returned ${JSON.stringify(got)}, ${want} (at ${timestamps[want]}) is kept`,
      );
  }
  assert.deepEqual(wrong, []);
  await log.close();
});
