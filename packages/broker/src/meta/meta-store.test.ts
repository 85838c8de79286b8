// The meta store across restarts and crashes: acknowledged changes survive, snapshots bound replay,
// a damaged newest snapshot falls back to the older one with no definition lost; a damaged change is
// either covered by a snapshot (nothing lost, reported) or stops the open, naming the file and the way out.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Fs, isBrokerError, seededRng, silentLogger } from "../lib/index.ts";
import { FakeClock, FaultFs, RecordingLogger, within } from "../testing/index.ts";
import { MetaStore } from "./meta-store.ts";

const DIR = "/data/meta";
const clock = new FakeClock();
const open = (fs: Fs, snapshotEvery = 10_000) =>
  MetaStore.open({ fs, dir: DIR, clock, logger: silentLogger, fsync: { mode: "group" }, snapshotEvery });

async function retryWhileFull(fn: () => Promise<void>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isBrokerError(e, "DISK_FULL")) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  assert.fail("still refused after 100 attempts");
}

describe("meta store", () => {
  it("replays puts and deletes after a restart", async () => {
    const fs = new FaultFs();
    let meta = await open(fs);
    await meta.put("queue", "orders", { durable: true, args: { "x-message-ttl": 1000 } });
    await meta.put("queue", "audit", { durable: true });
    await meta.apply([
      { kind: "exchange", key: "events", value: { type: "topic" } },
      { kind: "binding", key: "events|orders|order.*", value: {} },
    ]);
    await meta.delete("queue", "audit");
    await meta.close();
    meta = await open(fs);
    assert.deepEqual(meta.list("queue"), [["orders", { durable: true, args: { "x-message-ttl": 1000 } }]]);
    assert.deepEqual(meta.get("exchange", "events"), { type: "topic" });
    assert.equal(meta.get("queue", "audit"), undefined);
    await meta.close();
  });

  it("keeps every acknowledged change across crashes", async () => {
    for (let round = 0; round < 50; round++) {
      let fs = new FaultFs();
      const meta = await open(fs, 7);
      const acked = new Map<string, number>();
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 40; i++) {
        const key = `q${i % 9}`;
        pending.push(meta.put("queue", key, i).then(() => void acked.set(key, i)));
        if (i % 5 === 4) await Promise.race(pending);
      }
      fs = fs.crash(seededRng(round));
      await Promise.allSettled(pending);
      const after = await open(fs, 7);
      for (const [key, value] of acked) {
        const got = after.get("queue", key) as number;
        assert.ok(got >= value, `round ${round}: ${key} was acknowledged as ${value}, recovered ${got}`);
      }
      await after.close();
    }
  });

  it("a full disk refuses a change (retriable), applies nothing of it, and takes changes again once freed", async () => {
    const fs = new FaultFs();
    let meta = await open(fs, 4);
    await meta.put("queue", "a", 1);
    await meta.put("queue", "b", 2);
    fs.capacityBytes = fs.usedBytes() + 20;
    await assert.rejects(meta.put("queue", "c", 3), (e) => isBrokerError(e, "DISK_FULL") && e.retriable);
    assert.equal(meta.get("queue", "c"), undefined);
    fs.capacityBytes = Number.POSITIVE_INFINITY;
    // the change log accepts appends again once its probe finds room: a client retries the change
    await within(retryWhileFull(() => meta.put("queue", "c", 3)));
    // the fourth change starts a snapshot, which the disk refuses: the change itself is durable and applied
    fs.failOn("open", "ENOSPC");
    await meta.put("queue", "d", 4);
    assert.equal(meta.get("queue", "d"), 4);
    assert.ok(!(await fs.readdir(DIR)).some((n) => n.startsWith("snapshot-")));
    fs.clearFailures();
    await meta.put("queue", "e", 5); // and the snapshot is taken after the next change
    assert.ok((await fs.readdir(DIR)).some((n) => n.startsWith("snapshot-")));
    await meta.close();
    meta = await open(fs.crash(seededRng(1)), 4);
    assert.deepEqual(meta.list("queue"), [
      ["a", 1],
      ["b", 2],
      ["c", 3],
      ["d", 4],
      ["e", 5],
    ]);
    await meta.close();
  });

  it("snapshots bound the change log, and a damaged newest snapshot falls back to the older one", async () => {
    const fs = new FaultFs();
    let meta = await open(fs, 10);
    for (let i = 0; i < 55; i++) await meta.put("topic", `t${i}`, { partitions: i });
    await meta.close();
    const names = await fs.readdir(DIR);
    const snaps = names.filter((n) => n.startsWith("snapshot-"));
    assert.equal(snaps.length, 2, `kept ${names.join(" ")}`);
    const newest = `${DIR}/${snaps.at(-1)}`;
    const bytes = Buffer.from(fs.rawFile(newest)!);
    bytes[bytes.length - 3]! ^= 0x40;
    fs.setRawFile(newest, bytes);
    meta = await open(fs, 10);
    assert.equal(meta.list("topic").length, 55);
    assert.deepEqual(meta.get("topic", "t54"), { partitions: 54 });
    await meta.close();
  });

  const CHANGES = `${DIR}/changes/00000000000000000000.log`;
  /** Flips a bit in the records of the first change (the queue "q0"). */
  const damageFirstChange = (fs: FaultFs) => {
    const bytes = Buffer.from(fs.rawFile(CHANGES)!);
    const size = 12 + bytes.readInt32BE(8);
    bytes[size - 3]! ^= 0x10;
    fs.setRawFile(CHANGES, bytes);
  };
  const withThree = async (fs: FaultFs) => {
    const meta = await open(fs);
    for (let i = 0; i < 3; i++) await meta.put("queue", `q${i}`, { durable: true });
    await meta.close(); // writes a snapshot of everything
  };

  it("a damaged change below the snapshot written at close loses nothing and is reported", async () => {
    const fs = new FaultFs();
    await withThree(fs);
    damageFirstChange(fs);
    const logger = new RecordingLogger();
    const meta = await MetaStore.open({ fs, dir: DIR, clock, logger, fsync: { mode: "group" } });
    assert.deepEqual(
      meta.list("queue").map(([k]) => k),
      ["q0", "q1", "q2"],
    );
    const report = logger.entries.find((e) => e.level === "error");
    assert.equal((report?.obj as { file?: string } | undefined)?.file, CHANGES);
    await meta.put("queue", "q3", {}); // and the change log takes new changes
    await meta.close();
    assert.equal((await open(fs)).list("queue").length, 4);
  });

  it("a damaged change that no intact snapshot covers stops the open, naming the log and the way out", async () => {
    const fs = new FaultFs();
    const meta = await open(fs, 2);
    for (let i = 0; i < 3; i++) await meta.put("queue", `q${i}`, { durable: true }); // snapshot at 2
    await meta.close(); // and at 3
    const bytes = Buffer.from(fs.rawFile(CHANGES)!);
    let pos = 0;
    for (let n = 0; n < 2; n++) pos += 12 + bytes.readInt32BE(pos + 8);
    bytes[pos + 12 + bytes.readInt32BE(pos + 8) - 3]! ^= 0x10; // change 2, after the older snapshot
    fs.setRawFile(CHANGES, bytes);
    const newest = `${DIR}/snapshot-00000000000000000003.json`;
    const snap = Buffer.from(fs.rawFile(newest)!);
    snap[snap.length - 2]! ^= 0x01;
    fs.setRawFile(newest, snap);
    await assert.rejects(open(fs, 2), (e: unknown) => {
      assert.ok(isBrokerError(e, "STORAGE_UNAVAILABLE"));
      assert.match(e.message, /\/data\/meta\/changes: change 2 is damaged/);
      assert.match(e.message, /the newest intact snapshot is at change 2/);
      assert.match(e.message, /move \/data\/meta\/changes away: the broker then starts from that snapshot/);
      return true;
    });
  });

  it("a missing change log starts from the newest snapshot, and says so", async () => {
    const fs = new FaultFs();
    await withThree(fs);
    for (const name of await fs.readdir(`${DIR}/changes`)) await fs.unlink(`${DIR}/changes/${name}`);
    const logger = new RecordingLogger();
    const meta = await MetaStore.open({ fs, dir: DIR, clock, logger, fsync: { mode: "group" } });
    assert.equal(meta.list("queue").length, 3);
    assert.ok(logger.entries.some((e) => e.level === "error" && /is missing/.test(e.msg)));
    await meta.put("queue", "q3", {});
    await meta.close();
    assert.equal((await open(fs)).list("queue").length, 4);
  });
});
