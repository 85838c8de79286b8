// A failed fsync or a full disk: the log refuses every later append with a clear error, never
// acknowledges what it could not sync, keeps serving reads, and recovers everything acknowledged.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock, isBrokerError, silentLogger } from "../lib/index.ts";
import { FaultFs, RecordingLogger } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import { logConfig, readAll } from "./log-contract.ts";

const DIR = "/data/log";
const clock = new FakeClock();
const open = (fs: FaultFs, logger = silentLogger) =>
  FileLog.open({ fs, dir: DIR, config: logConfig({ segmentBytes: 4096 }), clock, logger });
const rec = (v: string) => [{ value: Buffer.from(v) }];
const isLogFailed = (e: unknown) => isBrokerError(e, "LOG_FAILED") && e.message.includes(DIR);

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
    assert.equal(log.endOffset, 2);
    assert.deepEqual(
      (await readAll(log)).map(([, v]) => v),
      ["a", "b"],
    );
    assert.ok(logger.entries.some((e) => e.level === "error"));
    await log.close();
    const reopened = await open(fs.crash({ next: () => 0, int: () => 0 }));
    assert.deepEqual(
      (await readAll(reopened)).map(([, v]) => v),
      ["a", "b"],
    );
    await reopened.close();
  });

  it("a full disk fails the append with the cause and loses nothing acknowledged", async () => {
    const fs = new FaultFs();
    const log = await open(fs);
    for (let i = 0; i < 10; i++) await log.appendRecords(rec(`m${i}`.padEnd(200, ".")));
    fs.capacityBytes = (await fs.readFile(`${DIR}/${"0".repeat(20)}.log`)).length + 100;
    await assert.rejects(
      log.appendRecords(rec("x".repeat(500))),
      (e) => isLogFailed(e) && /ENOSPC/.test(String(e)),
    );
    assert.equal((await readAll(log)).length, 10);
    const after = await open(fs.crash({ next: () => 0.99, int: (n) => n - 1 }));
    assert.equal((await readAll(after)).length, 10);
    assert.equal((await after.appendRecords(rec("y"))).baseOffset, 10);
    await after.close();
  });
});
