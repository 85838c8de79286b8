// Topic configs added after a topic was stored: max.compaction.lag.ms as Kafka spells it (default
// Long.MAX_VALUE, meaning never), and a topic stored without a newer config reads that config's default.

import assert from "node:assert/strict";
import { test } from "node:test";
import { MetaStore } from "../meta/index.ts";
import { FakeClock, FaultFs, RecordingLogger } from "../testing/index.ts";
import { applyConfigChanges, DEFAULT_TOPIC_CONFIG, describeConfig } from "./topic-config.ts";
import { Topics } from "./topics.ts";

const described = (changes: [string, string][]) =>
  describeConfig(applyConfigChanges(DEFAULT_TOPIC_CONFIG, changes)).find(
    (e) => e.name === "max.compaction.lag.ms",
  );

test("max.compaction.lag.ms: Kafka's default, a set value, and refusals", () => {
  assert.deepEqual(described([]), {
    name: "max.compaction.lag.ms",
    value: "9223372036854775807",
    isDefault: true,
  });
  assert.deepEqual(described([["max.compaction.lag.ms", "9223372036854775807"]])?.isDefault, true);
  assert.deepEqual(described([["max.compaction.lag.ms", "60000"]]), {
    name: "max.compaction.lag.ms",
    value: "60000",
    isDefault: false,
  });
  for (const bad of ["0", "-1", "1.5", "x", "99999999999999999999"])
    assert.throws(() => described([["max.compaction.lag.ms", bad]]), /max\.compaction\.lag\.ms/, bad);
});

test("a topic stored before a config existed opens with that config's default", async () => {
  const fs = new FaultFs();
  const clock = new FakeClock(1_000_000);
  const logger = new RecordingLogger();
  const fsync = { mode: "group" } as const;
  const meta = await MetaStore.open({ fs, dir: "/data/meta", clock, logger, fsync });
  const { maxCompactionLagMs: _, deleteRetentionMs: __, ...older } = DEFAULT_TOPIC_CONFIG;
  await meta.put("topic", "old", {
    name: "old",
    topicId: "00000000-0000-4000-8000-000000000001",
    partitions: 1,
    config: older,
  });
  const opts = { fs, dataDir: "/data", meta, clock, logger, fsync, autoCreate: false };
  const topics = await Topics.open({ ...opts, defaultPartitions: 1, retentionCheckMs: 3_600_000 });
  assert.deepEqual(topics.get("old")?.def.config, DEFAULT_TOPIC_CONFIG);
  await topics.close();
  await meta.close();
});
