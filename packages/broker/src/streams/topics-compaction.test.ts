// Topics and the broker's log cleaner: a topic altered to cleanup.policy=compact is cleaned by the next
// round, a delete topic never is, and a deleted topic's partitions leave the cleaner.

import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeRecordBatch } from "@spindle/protocol";
import { LogCleaner } from "../log/index.ts";
import { FakeClock, FaultFs, RecordingLogger } from "../testing/index.ts";
import { topicsOnFaultFs } from "../testing/topics-on-fault-fs.ts";

test("the cleaner follows cleanup.policy as it is altered, and forgets deleted topics", async () => {
  const fs = new FaultFs();
  const clock = new FakeClock(1_000_000);
  const logger = new RecordingLogger();
  const cleaner = new LogCleaner({ clock, logger, bufferBytes: 1 << 20, backoffMs: 1000 });
  const { meta, topics } = await topicsOnFaultFs(fs, clock, { logger, cleaner });
  cleaner.start();
  const topic = await topics.create("t", 1, [["segment.bytes", "1024"]]);
  const log = topic.partitions[0]!.log;
  for (let i = 0; i < 60; i++) {
    const records = [{ key: Buffer.from(`k${i % 3}`), value: Buffer.alloc(100, i) }];
    await log.append(encodeRecordBatch({ records, timestamp: clock.nowMs() }));
  }
  const size = log.sizeBytes;
  assert.deepEqual(await cleaner.runOnce(), [], "a delete topic is not cleaned");
  assert.equal(log.sizeBytes, size);

  await topics.alterConfig("t", [["cleanup.policy", "compact"]]);
  clock.advance(1000); // the timer's round
  await cleaner.runOnce();
  assert.equal(cleaner.stats.cleanings, 1, "the altered topic was cleaned");
  assert.ok(log.sizeBytes < size / 2, `${size} → ${log.sizeBytes}`);
  assert.ok(logger.entries.some((e) => e.msg.startsWith("log cleaned")));

  await topics.delete("t");
  assert.deepEqual(await cleaner.runOnce(true), [], "a deleted topic's logs are gone from the cleaner");
  await cleaner.close();
  await topics.close();
  await meta.close();
});
