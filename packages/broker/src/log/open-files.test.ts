// The shared cache of segment files: logs with more segments than the cap still append and read everything,
// idle files are closed down to the cap, and running out of descriptors makes appends wait, not fail.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type FileHandle, type Fs, isBrokerError, silentLogger } from "../lib/index.ts";
import { FakeClock, FaultFs, RecordingLogger } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import { logConfig, readAll } from "./log-contract.ts";
import { OpenFiles } from "./open-files.ts";

const clock = new FakeClock();
const rec = (v: string) => [{ value: Buffer.from(v.padEnd(300, ".")) }];

/** Counts the descriptors open at once through `fs` (segment files and short-lived opens alike). */
function counting(fs: Fs): { fs: Fs; open: () => number; peak: () => number; resetPeak: () => void } {
  let open = 0;
  let peak = 0;
  const wrap = (fh: FileHandle): FileHandle => ({
    read: (...a) => fh.read(...a),
    write: (...a) => fh.write(...a),
    writev: (...a) => fh.writev(...a),
    datasync: () => fh.datasync(),
    truncate: (n) => fh.truncate(n),
    size: () => fh.size(),
    close: async () => {
      open--;
      await fh.close();
    },
  });
  const counted: Fs = {
    ...fs,
    readdir: (d) => fs.readdir(d),
    mkdirp: (d) => fs.mkdirp(d),
    exists: (p) => fs.exists(p),
    unlink: (p) => fs.unlink(p),
    rename: (a, b) => fs.rename(a, b),
    syncDir: (d) => fs.syncDir(d),
    readFile: (p) => fs.readFile(p),
    open: async (path, mode, dsync) => {
      const fh = await fs.open(path, mode, dsync);
      open++;
      peak = Math.max(peak, open);
      return wrap(fh);
    },
  };
  return {
    fs: counted,
    open: () => open,
    peak: () => peak,
    resetPeak: () => {
      peak = open;
    },
  };
}

const openLog = (fs: Fs, dir: string, files: OpenFiles) =>
  FileLog.open({ fs, dir, config: logConfig({ segmentBytes: 1024 }), clock, logger: silentLogger, files });

describe("open segment files", () => {
  it("keeps at most the cap open while idle, across logs with many segments, and reads every record", async () => {
    const disk = counting(new FaultFs());
    const files = new OpenFiles({ capacity: 3, logsMax: 100, hint: "", logger: silentLogger });
    const logs = await Promise.all(["/a", "/b", "/c", "/d"].map((d) => openLog(disk.fs, d, files)));
    for (let i = 0; i < 40; i++) await logs[i % 4]!.appendRecords(rec(`r${i}`));
    for (const log of logs) assert.ok(log.segmentCount >= 5, `${log.segmentCount} segments`);
    assert.ok(files.openCount <= 3, `${files.openCount} files cached`);
    assert.ok(disk.open() <= 3, `${disk.open()} descriptors open while idle`);
    for (const [n, log] of logs.entries()) {
      const values = (await readAll(log)).map(([, v]) => v.replace(/\.+$/, ""));
      assert.deepEqual(
        values,
        Array.from({ length: 10 }, (_, i) => `r${i * 4 + n}`),
      );
    }
    assert.ok(disk.open() <= 3, `${disk.open()} descriptors open after reading`);
    // one descriptor per call in flight, plus a few short-lived ones (index files, directory syncs)
    assert.ok(disk.peak() <= 8, `peak ${disk.peak()} descriptors`);
    for (const log of logs) await log.close();
    assert.equal(disk.open(), 0);
  });

  it("appends to more logs at once than the cap: each open waits for a place, none goes over", async () => {
    const disk = counting(new FaultFs());
    const files = new OpenFiles({ capacity: 3, logsMax: 100, hint: "", logger: silentLogger });
    const dirs = Array.from({ length: 12 }, (_, i) => `/log-${i}`);
    const logs = await Promise.all(dirs.map((d) => openLog(disk.fs, d, files)));
    disk.resetPeak();
    for (let round = 0; round < 2; round++) {
      await Promise.all(logs.map((log, i) => log.appendRecords(rec(`r${round}-${i}`))));
    }
    assert.ok(disk.peak() <= 3, `peak ${disk.peak()} descriptors for 12 logs appended to at once`);
    for (const log of logs) assert.equal((await readAll(log)).length, 2);
    for (const log of logs) await log.close();
  });

  it("reopens after a restart a log of more segments than the cap", async () => {
    const fault = new FaultFs();
    const disk = counting(fault);
    const files = new OpenFiles({ capacity: 2, logsMax: 100, hint: "", logger: silentLogger });
    const log = await openLog(disk.fs, "/big", files);
    for (let i = 0; i < 30; i++) await log.appendRecords(rec(`r${i}`));
    await log.close();
    const again = await openLog(disk.fs, "/big", files);
    assert.ok(again.segmentCount > 10);
    assert.ok(disk.open() <= 2, `${disk.open()} descriptors open after recovery`);
    assert.equal((await readAll(again)).length, 30);
    await again.close();
  });

  it("an append waits while the process is out of descriptors and completes once one is free", async () => {
    const fs = new FaultFs();
    const logger = new RecordingLogger();
    const files = new OpenFiles({ capacity: 1, logsMax: 100, hint: "raise ulimit -n", logger });
    const a = await openLog(fs, "/a", files);
    const b = await openLog(fs, "/b", files);
    await a.appendRecords(rec("a0"));
    await b.appendRecords(rec("b0")); // pushes a's active segment out of the cache
    fs.failOn("open", "EMFILE");
    const appended = a.appendRecords(rec("a1"));
    let done = false;
    void appended.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(done, false, "the append waits for a descriptor");
    fs.clearFailures();
    assert.deepEqual(await appended, { baseOffset: 1, lastOffset: 1 });
    await a.appendRecords(rec("a2"));
    assert.equal((await readAll(a)).length, 3);
    const warned = logger.entries.filter((e) => e.msg.includes("out of file descriptors"));
    assert.equal(warned.length, 1, "one warning for the burst");
    assert.match(warned[0]!.msg, /raise ulimit -n/);
    await a.close();
    await b.close();
  });

  it("claims logs against the budget and names the hint when they do not fit", () => {
    const files = new OpenFiles({ capacity: 10, logsMax: 8, hint: "raise ulimit -n", logger: silentLogger });
    files.claimLogs(6, "topic t");
    assert.throws(
      () => files.claimLogs(3, "topic u"),
      (e) =>
        isBrokerError(e, "RESOURCE_LIMIT") &&
        /topic u needs 3 more logs: 6 of the 8 .*raise ulimit -n/.test(e.message),
    );
    files.claimLogs(3, "recovered topic u", true);
    assert.equal(files.logCount, 9);
    files.releaseLogs(9);
    files.claimLogs(8, "topic v");
  });
});
