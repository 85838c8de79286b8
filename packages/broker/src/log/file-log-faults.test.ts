// A failed fsync or write: the log refuses every later append with a clear error, never acknowledges what
// it could not sync, keeps serving reads, and recovers everything acknowledged. A full disk is the
// exception that heals: the unacknowledged appends are rejected, the segment is cut back to the last
// acknowledged batch, and appends succeed again (at dense offsets) once space is freed, without a restart.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isBrokerError, silentLogger } from "../lib/index.ts";
import { FakeClock, FaultFs, RecordingLogger, within } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import type { FsyncPolicy } from "./fsync-policy.ts";
import { logConfig, readAll } from "./log-contract.ts";

const DIR = "/data/log";
const SEGMENT0 = `${DIR}/${"0".repeat(20)}.log`;
const clock = new FakeClock();
const open = (
  fs: FaultFs,
  logger = silentLogger,
  fsync: FsyncPolicy = { mode: "group" },
  segmentBytes = 4096,
) => FileLog.open({ fs, dir: DIR, config: logConfig({ segmentBytes, fsync }), clock, logger });
const rec = (v: string) => [{ value: Buffer.from(v) }];
const isLogFailed = (e: unknown) => isBrokerError(e, "LOG_FAILED") && e.message.includes(DIR);
const isDiskFull = (e: unknown) =>
  isBrokerError(e, "DISK_FULL") && e.retriable && e.message.includes(DIR) && /ENOSPC/.test(e.message);
const values = async (log: FileLog) => (await readAll(log, 0)).map(([o, v]) => `${o}:${v.trim()}`);
/** The crash that keeps every unsynced write, and the one that keeps none. */
const keepAll = { next: () => 0.99, int: (n: number) => n - 1 };
const keepNone = { next: () => 0, int: () => 0 };
const pad = (v: string) => v.padEnd(200, " ");

describe("file log under disk faults", () => {
  it("refuses writes after a failed fsync and keeps serving reads", async () => {
    const fs = new FaultFs();
    const logger = new RecordingLogger();
    const log = await open(fs, logger);
    await log.appendRecords(rec("a"));
    await log.appendRecords(rec("b"));
    fs.failOn("datasync");
    await assert.rejects(log.appendRecords(rec("c")), isLogFailed);
    fs.clearFailures(); // the disk "recovers": the log must still not trust it
    await assert.rejects(log.appendRecords(rec("d")), isLogFailed);
    await assert.rejects(log.writable(), isLogFailed);
    assert.equal(log.endOffset, 2);
    assert.deepEqual(await values(log), ["0:a", "1:b"]);
    assert.ok(logger.entries.some((e) => e.level === "error"));
    await log.close();
    const reopened = await open(fs.crash(keepNone));
    assert.deepEqual(await values(reopened), ["0:a", "1:b"]);
    await reopened.close();
  });

  it("an EIO on write is final too, even once the disk works again", async () => {
    const fs = new FaultFs();
    const log = await open(fs);
    await log.appendRecords(rec("a"));
    fs.failOn("write", "EIO");
    await assert.rejects(log.appendRecords(rec("b")), isLogFailed);
    fs.clearFailures();
    assert.equal(await log.retryWrites(), false);
    await assert.rejects(log.appendRecords(rec("c")), isLogFailed);
    await log.close();
  });

  for (const fsync of [
    { mode: "group" },
    { mode: "always" },
    { mode: "interval", intervalMs: 50 },
  ] as const) {
    it(`a full disk rejects the unacknowledged appends, cuts them off and heals once space is freed (fsync ${fsync.mode})`, async () => {
      const fs = new FaultFs();
      const logger = new RecordingLogger();
      const log = await open(fs, logger, fsync, 64 * 1024);
      for (let i = 0; i < 10; i++) await log.appendRecords(rec(pad(`m${i}`)));
      const ackedBytes = fs.rawFile(SEGMENT0)!.length;
      fs.capacityBytes = ackedBytes + 100; // a part of the next append fits
      const group = ["x", "y", "z"].map((v) => log.appendRecords(rec(pad(v))));
      group.forEach((p) => void p.catch(() => undefined));
      for (const p of group) await assert.rejects(p, isDiskFull);
      // refused at once while the disk is full: no offset is taken, nothing is queued
      await assert.rejects(log.appendRecords(rec("refused")), isDiskFull);
      assert.equal(fs.rawFile(SEGMENT0)!.length, ackedBytes, "the part that fit was cut off again");
      assert.equal(log.endOffset, 10);
      assert.equal((await values(log)).length, 10, "reads go on");
      assert.ok(logger.entries.some((e) => e.level === "warn" && /disk full/.test(e.msg)));

      assert.equal(await log.retryWrites(), false, "still full");
      fs.capacityBytes = Number.POSITIVE_INFINITY;
      await within(log.writable()); // the log's own backoff probe finds the space
      const r = await log.appendRecords(rec(pad("after")));
      assert.equal(r.baseOffset, 10, "offsets stay dense: the rejected appends' offsets are given out again");
      assert.ok(logger.entries.some((e) => /accepts appends again/.test(e.msg)));
      await log.flush();
      const expected = [...Array.from({ length: 10 }, (_, i) => `${i}:m${i}`), "10:after"];
      assert.deepEqual(await values(log), expected);
      const reopened = await open(fs.crash(keepAll), silentLogger, fsync, 64 * 1024);
      assert.deepEqual(await values(reopened), expected);
      await reopened.close();
    });
  }

  it("an injected ENOSPC on write (no partial write) heals once cleared", async () => {
    const fs = new FaultFs();
    const log = await open(fs);
    await log.appendRecords(rec("a"));
    fs.failOn("write", "ENOSPC");
    await assert.rejects(log.appendRecords(rec("b")), isDiskFull);
    assert.equal(await log.retryWrites(), false);
    fs.clearFailures();
    assert.equal(await log.retryWrites(), true);
    assert.equal((await log.appendRecords(rec("c"))).baseOffset, 1);
    assert.deepEqual(await values(log), ["0:a", "1:c"]);
    await log.close();
  });

  it("a segment roll that hits a full disk leaves the old segment active, and rolls once space is back", async () => {
    for (let spare = 0; spare < 500; spare += 10) {
      const fs = new FaultFs();
      const log = await open(fs, silentLogger, { mode: "group" }, 1024);
      for (let i = 0; i < 3; i++) await log.appendRecords(rec(pad(`m${i}`)));
      assert.equal(log.segmentCount, 1);
      // the next append needs a roll: the index files and the new segment may or may not fit
      fs.capacityBytes = fs.usedBytes() + spare;
      const outcome = await log.appendRecords(rec(pad("n"))).then(
        () => "ok",
        (e: unknown) => (isDiskFull(e) ? "full" : String(e)),
      );
      assert.ok(outcome === "ok" || outcome === "full", `spare ${spare}: ${outcome}`);
      fs.capacityBytes = Number.POSITIVE_INFINITY;
      await within(log.writable());
      await log.appendRecords(rec(pad("after")));
      const got = await values(log);
      const kept = outcome === "ok" ? ["3:n", "4:after"] : ["3:after"];
      assert.deepEqual(got, ["0:m0", "1:m1", "2:m2", ...kept], `spare ${spare}`);
      const reopened = await open(fs.crash(keepAll), silentLogger, { mode: "group" }, 1024);
      assert.deepEqual(await values(reopened), got, `spare ${spare}: the same after a crash`);
      await reopened.close();
    }
  });

  it("under fsync interval a failed sync is final even for ENOSPC (it covered acknowledged writes)", async () => {
    const fs = new FaultFs();
    const log = await open(fs, silentLogger, { mode: "interval", intervalMs: 10 });
    await log.appendRecords(rec("a"));
    fs.failOn("datasync", "ENOSPC");
    await new Promise((r) => setTimeout(r, 40));
    await assert.rejects(log.appendRecords(rec("b")), isLogFailed);
    await log.close();
  });
});
