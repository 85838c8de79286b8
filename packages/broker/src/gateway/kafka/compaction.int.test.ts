// Compacted topics through real clients against a real spindle process: kafkajs creates the topic with
// cleanup.policy=compact, the background cleaner runs, kcat and a kafkajs consumer read only the latest
// value of each key, keyless records are refused, ListOffsets v7 answers the max timestamp (-3), and
// /metrics shows the cleaner's figures under the JMX exporter's names.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { KafkaErrorCode, type ListOffsetsResponse } from "@spindle/protocol";
import { Kafka, logLevel } from "kafkajs";
import { parseScrape, promtoolCheck, value } from "../../../../../test/support/prometheus.ts";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";
import { request } from "./raw-client.ts";

const run = promisify(execFile);
let spindle: SpindleProcess;
let kafka: Kafka;

before(async () => {
  spindle = await startSpindle(["--log-cleaner-enable", "true", "--log-cleaner-backoff-ms", "100"]);
  kafka = new Kafka({
    clientId: "t",
    brokers: [spindle.kafka],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
});
after(async () => {
  await spindle.stop();
});

const TOPIC_CONFIG = [
  { name: "cleanup.policy", value: "compact" },
  { name: "segment.bytes", value: "1024" },
  { name: "segment.ms", value: "200" },
  { name: "min.cleanable.dirty.ratio", value: "0.01" },
  { name: "delete.retention.ms", value: "300" },
];

/** kcat -C -e from the beginning: every record as "offset key=value". */
async function kcatRead(topic: string): Promise<string[]> {
  const args = ["-C", "-b", spindle.kafka, "-t", topic, "-e", "-o", "beginning", "-q", "-f", "%o %k=%s\\n"];
  const { stdout } = await run("kcat", args, { timeout: 20_000 });
  return stdout.split("\n").filter((l) => l !== "");
}

async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`${what}: last seen ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("kafkajs creates a compacted topic; after cleaning kcat and a kafkajs consumer see each key's latest value", async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "table", configEntries: TOPIC_CONFIG }] });
  const described = await admin.describeConfigs({
    resources: [{ type: 2, name: "table" }],
    includeSynonyms: false,
  });
  const entries = new Map(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
  assert.equal(entries.get("cleanup.policy"), "compact");
  assert.equal(entries.get("min.cleanable.dirty.ratio"), "0.01");
  assert.equal(entries.get("delete.retention.ms"), "300");

  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < 120; i++)
    await producer.send({ topic: "table", messages: [{ key: `k${i % 10}`, value: `v${i}` }] });
  await producer.send({ topic: "table", messages: [{ key: "k9", value: null }] });

  // the tombstone removes k9; past delete.retention.ms the tombstone itself goes
  const expected = Array.from({ length: 9 }, (_, k) => `${110 + k} k${k}=v${110 + k}`);
  const lines = await eventually(
    "kcat sees the cleaned topic",
    () => kcatRead("table"),
    (l) => l.length === 9,
  );
  assert.deepEqual(lines, expected);

  const consumer = kafka.consumer({ groupId: "reader", maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: "table", fromBeginning: true });
  const seen: string[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(`${message.offset} ${message.key?.toString()}=${message.value?.toString()}`);
    },
  });
  await eventually(
    "kafkajs reads every kept record",
    async () => seen.length,
    (n) => n >= 9,
  );
  assert.deepEqual(seen, expected);

  // new values after the cleaning are read too: the consumer is not stuck on removed offsets
  await producer.send({ topic: "table", messages: [{ key: "k0", value: "later" }] });
  await eventually(
    "kafkajs reads a later record",
    async () => seen.length,
    (n) => n >= 10,
  );
  assert.equal(seen[9], "121 k0=later");
  await consumer.disconnect();
  await checkCleanerMetrics();
  await producer.disconnect();
  await admin.disconnect();
});

async function checkCleanerMetrics(): Promise<void> {
  const text = await (await fetch(`http://${spindle.http}/metrics`)).text();
  promtoolCheck(text);
  const samples = parseScrape(text);
  const at = (name: string) => value(samples, name);
  assert.ok(at("spindle_log_cleaner_cleanings_total") >= 1, "cleanings are counted");
  const recopy = at("kafka_log_logcleaner_cleaner_recopy_percent");
  assert.ok(recopy > 0 && recopy <= 100, `the last cleaning wrote part of what it read (${recopy}%)`);
  const used = at("kafka_log_logcleaner_max_buffer_utilization_percent");
  assert.ok(used >= 0 && used < 1, `ten keys in a 32 MiB map (${used}%)`);
  assert.ok(at("kafka_log_logcleaner_max_clean_time_secs") > 0);
  assert.equal(at("kafka_log_logcleaner_deadthreadcount"), 0);
  assert.equal(at("spindle_log_cleaner_failing_partitions"), 0);
  const dirty = at("kafka_log_logcleanermanager_max_dirty_percent");
  assert.ok(dirty >= 0 && dirty <= 100);
  const sinceS = Date.now() / 1000 - at("spindle_log_cleaner_last_check_timestamp_seconds");
  assert.ok(sinceS >= 0 && sinceS < 10, `the cleaner checked ${sinceS} s ago (every 100 ms)`);
}

test("a record without a key is refused by a compacted topic (kafkajs and kcat), and alter turns compaction on", async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "plain" }] });
  const producer = kafka.producer({ retry: { retries: 0 } });
  await producer.connect();
  await producer.send({ topic: "plain", messages: [{ value: "no key is fine here" }] });
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      { type: 2, name: "plain", configEntries: [{ name: "cleanup.policy", value: "compact,delete" }] },
    ],
  });
  const described = await admin.describeConfigs({
    resources: [{ type: 2, name: "plain" }],
    includeSynonyms: false,
  });
  const policy = described.resources[0]!.configEntries.find((e) => e.configName === "cleanup.policy");
  assert.equal(policy?.configValue, "compact,delete");
  await assert.rejects(
    producer.send({ topic: "plain", messages: [{ value: "no key" }] }),
    /corrupt|invalid record/i,
  );
  await producer.send({ topic: "plain", messages: [{ key: "k", value: "keyed" }] });
  const kcat = run("sh", ["-c", `echo nokey | kcat -P -b ${spindle.kafka} -t plain`], { timeout: 20_000 });
  const { stderr } = await kcat.then(
    () => assert.fail("kcat exits non-zero when its record is refused"),
    (e: { stderr: string }) => e,
  );
  assert.match(stderr, /Delivery failed.*Invalid (message|record)/);
  await producer.disconnect();
  await admin.disconnect();
});

test("ListOffsets v7 answers -3 with the offset and timestamp of the newest record", async () => {
  const producer = kafka.producer();
  await producer.connect();
  const base = Date.now();
  const stamps = [base - 5000, base + 60_000, base - 1000];
  for (const [i, ts] of stamps.entries())
    await producer.send({ topic: "stamps", messages: [{ key: `k${i}`, value: "x", timestamp: String(ts) }] });
  await producer.disconnect();
  const res = await request<ListOffsetsResponse>(spindle.kafka, 2, 7, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: "stamps", partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -3n }] }],
  });
  const p = res.topics[0]!.partitions[0]!;
  assert.equal(p.errorCode, KafkaErrorCode.NONE);
  assert.equal(p.offset, 1n);
  assert.equal(p.timestamp, BigInt(base + 60_000));
});
