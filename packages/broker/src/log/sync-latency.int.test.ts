// The sync-latency histogram: its buckets, and that a FileLog on a real directory times the syncs each
// fsync policy makes (the O_DSYNC writes of group/always, the fdatasyncs of interval, roll and close).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { nodeFs, silentLogger } from "../lib/index.ts";
import { FakeClock } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import type { FsyncPolicy } from "./fsync-policy.ts";
import { logConfig } from "./log-contract.ts";
import { SYNC_BUCKETS_S, SyncLatency } from "./sync-latency.ts";

const root = mkdtempSync(join(tmpdir(), "spindle-sync-latency-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("each observation lands in the first bucket whose bound it does not exceed", () => {
  let nowMs = 0;
  const h = new SyncLatency(() => nowMs);
  h.observe(0.0001); // on a bound: that bucket (Prometheus buckets are `le`)
  h.observe(0.0007);
  h.observe(99);
  nowMs = 3;
  h.since(1); // 2 ms
  assert.equal(h.count, 4);
  assert.ok(Math.abs(h.sumSeconds - (0.0001 + 0.0007 + 99 + 0.002)) < 1e-9);
  const at = (bound: number) => h.buckets[SYNC_BUCKETS_S.indexOf(bound)];
  assert.equal(at(0.0001), 1);
  assert.equal(at(0.001), 1);
  assert.equal(at(0.0025), 1);
  assert.equal(h.buckets[SYNC_BUCKETS_S.length], 1, "slower than every bound: the +Inf slot");
  assert.equal(
    h.buckets.reduce((a, b) => a + b, 0),
    4,
  );
});

async function syncsOf(fsync: FsyncPolicy, appends: number, segmentBytes = 1024 * 1024): Promise<number> {
  const syncLatency = new SyncLatency();
  const log = await FileLog.open({
    fs: nodeFs,
    dir: join(root, `${fsync.mode}-${appends}-${segmentBytes}`),
    config: logConfig({ fsync, segmentBytes }),
    clock: new FakeClock(),
    logger: silentLogger,
    syncLatency,
  });
  for (let i = 0; i < appends; i++) await log.appendRecords([{ value: Buffer.alloc(200, i) }]);
  const beforeClose = syncLatency.count;
  await log.close();
  assert.ok(syncLatency.count > beforeClose, "close syncs the active segment");
  return beforeClose;
}

test("group and always time each synced write of the appends", async () => {
  assert.equal(await syncsOf({ mode: "group" }, 5), 5, "one at a time: one synced write each");
  assert.equal(await syncsOf({ mode: "always" }, 3), 3);
});

test("never times no write, only the fdatasync of a segment roll", async () => {
  assert.equal(await syncsOf({ mode: "never" }, 5), 0);
  // 1 KiB segments: 200-byte records roll every few appends, and each roll syncs the sealed segment
  assert.ok((await syncsOf({ mode: "never" }, 20, 1024)) >= 3);
});
