// The log contract against FileLog on a real temporary directory, and what only a real directory shows:
// the start-offset checkpoint stays whole while deletes overlap; a batch's CRC is checked once per process.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readInt64 } from "@spindle/protocol";
import { nodeFs, silentLogger } from "../lib/index.ts";
import { FakeClock } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import { logConfig, runLogContract } from "./log-contract.ts";
import { readStartOffset } from "./start-offset.ts";

const root = mkdtempSync(join(tmpdir(), "spindle-log-"));
after(() => rmSync(root, { recursive: true, force: true }));
const dirs = new WeakMap<object, string>();
let n = 0;

runLogContract("FileLog on disk", {
  create: async (config, clock) => {
    const dir = join(root, `log-${n++}`);
    const log = await FileLog.open({
      fs: nodeFs,
      dir,
      config: logConfig(config),
      clock,
      logger: silentLogger,
    });
    dirs.set(log, dir);
    return log;
  },
  reopen: async (log, config, clock) => {
    await log.close();
    const dir = dirs.get(log)!;
    const reopened = await FileLog.open({
      fs: nodeFs,
      dir,
      config: logConfig(config),
      clock,
      logger: silentLogger,
    });
    dirs.set(reopened, dir);
    return reopened;
  },
});

test("the log-start-offset checkpoint is whole after every overlapping deleteRecordsBefore", async () => {
  const dir = join(root, "overlapping-deletes");
  const log = await FileLog.open({
    fs: nodeFs,
    dir,
    config: logConfig({ segmentBytes: 1024 }),
    clock: new FakeClock(),
    logger: silentLogger,
  });
  for (let i = 0; i < 200; i++) await log.appendRecords([{ value: Buffer.alloc(100, i) }]);
  let highest = 0;
  const calls = [];
  for (let round = 0; round < 10; round++) {
    for (const o of [round * 20 + 7, round * 20 + 3, round * 20 + 15]) {
      calls.push(
        log.deleteRecordsBefore(o).then(async () => {
          highest = Math.max(highest, o);
          const onDisk = await readStartOffset(nodeFs, dir);
          assert.ok(onDisk !== null && onDisk >= o, `checkpoint ${onDisk} after deleting before ${o}`);
        }),
      );
    }
  }
  const outcomes = await Promise.allSettled(calls);
  assert.deepEqual(
    outcomes.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason)),
    [],
  );
  assert.equal(highest, 195);
  assert.equal(await readStartOffset(nodeFs, dir), 195);
  assert.equal(log.startOffset, 195);
  await log.close();
});

test("a batch's CRC is checked once per process: reads trust what was appended, a reopen checks again", async () => {
  const dir = join(root, "checked-once");
  const open = () =>
    FileLog.open({ fs: nodeFs, dir, config: logConfig({}), clock: new FakeClock(), logger: silentLogger });
  const log = await open();
  for (let i = 0; i < 3; i++) await log.appendRecords([{ key: null, value: Buffer.from(`value-${i}`) }]);
  const first = await log.read(1, 1);
  // rot under the open log, in the records of offset 1 (the CRC was checked on append, not again on read)
  const segment = join(dir, "00000000000000000000.log");
  const bytes = readFileSync(segment);
  const at = bytes.indexOf("value-1");
  bytes[at] = (bytes[at] as number) ^ 0x20;
  writeFileSync(segment, bytes);
  const trusted = await log.read(1, 1);
  assert.equal(trusted.nextOffset, 2);
  assert.equal(trusted.data.length, first.data.length);
  assert.equal(log.damage.corruptBatches, 0);
  await log.close();
  // a new process checks the bytes again: recovery finds the damaged batch and reads step over it
  const reopened = await open();
  const after = await reopened.read(1, 1);
  assert.equal(readInt64(after.data, 0), 2, "the read resumes after the damaged batch");
  assert.equal(reopened.damage.corruptBatches, 1);
  await reopened.close();
});
