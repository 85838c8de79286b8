import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeRecordBatch } from "@spindle/protocol";
import { FakeClock, FaultFs } from "../testing/index.ts";
import { topicsOnFaultFs } from "../testing/topics-on-fault-fs.ts";

test("a retention run that fails is logged with its topic and partition, not swallowed", async () => {
  const fs = new FaultFs();
  const clock = new FakeClock();
  const { logger, meta, topics } = await topicsOnFaultFs(fs, clock);
  const topic = await topics.create("t", 1, [
    ["retention.ms", "1000"],
    ["segment.bytes", "1024"],
  ]);
  const log = topic.partitions[0]!.log;
  for (let i = 0; i < 20; i++) {
    await log.append(
      encodeRecordBatch({ records: [{ value: Buffer.alloc(200, i) }], timestamp: clock.nowMs() }),
    );
  }
  clock.advance(10_000);

  fs.failOn("syncDir");
  assert.equal(await topics.runRetention(), 0);
  const failed = logger.entries.filter((e) => e.msg.includes("retention failed"));
  assert.equal(failed.length, 1, "the failure is logged");
  assert.deepEqual({ ...failed[0]!.obj, err: undefined }, { err: undefined, topic: "t", partition: 0 });

  fs.clearFailures();
  await topics.runRetention();
  assert.equal(logger.entries.filter((e) => e.msg.includes("retention failed")).length, 1);
  await topics.close();
  await meta.close();
});
