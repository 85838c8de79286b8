// kafkajs admin against a real spindle process: topic configs, retention, DeleteRecords, partitions,
// deletion, and a consumer that fell behind the log start resetting by its policy.
// Invariant: every check talks to the broker over a socket with an unmodified third-party client.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { OffsetDeleteResponse } from "@spindle/protocol";
import { type ConfigResourceTypes, Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";
import { request } from "./raw-client.ts";

/** kafkajs' TOPIC; its enum is a type-only export under ESM. */
const TOPIC = 2 as ConfigResourceTypes;

let spindle: SpindleProcess;
let kafka: Kafka;

before(async () => {
  spindle = await startSpindle(["--auto-create-topics", "false"]);
  kafka = new Kafka({
    clientId: "adm",
    brokers: [spindle.kafka],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
});
after(async () => {
  await spindle.stop();
});

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function fill(topic: string, n: number, size = 1000): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < n; i += 10) {
    const messages = Array.from({ length: 10 }, (_, j) => ({ value: `${i + j}:${"x".repeat(size)}` }));
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
}

describe("topic admin", () => {
  test("configs are described, altered durably and validated", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: "conf", numPartitions: 2, configEntries: [{ name: "retention.ms", value: "3600000" }] },
      ],
    });
    const describe = async () => {
      const r = await admin.describeConfigs({
        resources: [{ type: TOPIC, name: "conf" }],
        includeSynonyms: false,
      });
      return Object.fromEntries(
        r.resources[0]?.configEntries.map((e) => [e.configName, e.configValue]) ?? [],
      );
    };
    assert.equal((await describe())["retention.ms"], "3600000");
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        { type: TOPIC, name: "conf", configEntries: [{ name: "segment.bytes", value: "1048576" }] },
      ],
    });
    assert.equal((await describe())["segment.bytes"], "1048576");
    await assert.rejects(
      admin.createTopics({
        topics: [{ topic: "bad-conf", configEntries: [{ name: "retention.ms", value: "soon" }] }],
      }),
    );
    assert.equal(await admin.createTopics({ topics: [{ topic: "conf" }] }), false, "already exists");
    await admin.disconnect();
  });

  test("partitions are added, topics deleted, and produce to a missing topic fails with auto-create off", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "grow", numPartitions: 1 }] });
    await admin.createPartitions({ topicPartitions: [{ topic: "grow", count: 4 }] });
    const meta = await admin.fetchTopicMetadata({ topics: ["grow"] });
    assert.equal(meta.topics[0]?.partitions.length, 4);
    await admin.deleteTopics({ topics: ["grow"] });
    assert.ok(!(await admin.listTopics()).includes("grow"));
    const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    await assert.rejects(
      producer.send({ topic: "grow", messages: [{ value: "x" }] }),
      /does not host this topic-partition|UNKNOWN_TOPIC|This server does not host/i,
    );
    await producer.disconnect();
    await admin.disconnect();
  });
});

describe("retention and DeleteRecords", () => {
  test("DeleteRecords moves the low watermark; a consumer behind it resets to earliest", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "trim", numPartitions: 1 }] });
    await fill("trim", 100, 10);
    const consumer = kafka.consumer({ groupId: "behind", sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topics: ["trim"], fromBeginning: true });
    await consumer.run({ autoCommit: false, eachMessage: async () => {} });
    await until("the consumer to join", () => true);
    await consumer.disconnect();
    await admin.setOffsets({ groupId: "behind", topic: "trim", partitions: [{ partition: 0, offset: "5" }] });
    await admin.deleteTopicRecords({ topic: "trim", partitions: [{ partition: 0, offset: "60" }] });
    const offsets = await admin.fetchTopicOffsets("trim");
    assert.equal(offsets[0]?.low, "60");
    const again = kafka.consumer({ groupId: "behind", sessionTimeout: 10_000 });
    const first: string[] = [];
    await again.connect();
    await again.subscribe({ topics: ["trim"], fromBeginning: true });
    await again.run({ eachMessage: async ({ message }) => void first.push(String(message.offset)) });
    await until("records after the reset", () => first.length > 0);
    await again.disconnect();
    assert.equal(first[0], "60", "OFFSET_OUT_OF_RANGE made the consumer reset to the earliest offset");
    await admin.disconnect();
  });

  test("retention.bytes deletes whole old segments as soon as it is lowered", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: "ret", numPartitions: 1, configEntries: [{ name: "segment.bytes", value: "16384" }] },
      ],
    });
    await fill("ret", 200, 1000);
    assert.equal((await admin.fetchTopicOffsets("ret"))[0]?.low, "0");
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: TOPIC, name: "ret", configEntries: [{ name: "retention.bytes", value: "40000" }] }],
    });
    const [o] = await admin.fetchTopicOffsets("ret");
    assert.ok(Number(o?.low) > 100, `low watermark moved past old segments (low=${o?.low})`);
    assert.equal(o?.high, "200");
    await admin.disconnect();
  });
});

describe("retention by time", () => {
  test("retention.ms deletes sealed segments whose records are all older", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: "aged", numPartitions: 1, configEntries: [{ name: "segment.bytes", value: "16384" }] },
      ],
    });
    await fill("aged", 100, 1000);
    await new Promise((r) => setTimeout(r, 50));
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: TOPIC, name: "aged", configEntries: [{ name: "retention.ms", value: "10" }] }],
    });
    const [o] = await admin.fetchTopicOffsets("aged");
    assert.ok(Number(o?.low) >= 80, `only the active segment is left (low=${o?.low})`);
    assert.equal(o?.high, "100");
    await admin.disconnect();
  });
});

describe("group admin", () => {
  test("OffsetDelete drops one partition's offset; DeleteGroups removes an empty group", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "gadm", numPartitions: 2 }] });
    await admin.setOffsets({ groupId: "gone", topic: "gadm", partitions: [{ partition: 0, offset: "0" }] });
    await admin.setOffsets({ groupId: "gone", topic: "gadm", partitions: [{ partition: 1, offset: "0" }] });
    const del = await request<OffsetDeleteResponse>(spindle.kafka, 47, 0, {
      groupId: "gone",
      topics: [{ name: "gadm", partitions: [{ partitionIndex: 0 }] }],
    });
    assert.equal(del.errorCode, 0);
    const left = await admin.fetchOffsets({ groupId: "gone", topics: ["gadm"] });
    const byPartition = Object.fromEntries(left[0]?.partitions.map((p) => [p.partition, p.offset]) ?? []);
    assert.deepEqual(byPartition, { 0: "-1", 1: "0" });
    assert.ok((await admin.listGroups()).groups.some((g) => g.groupId === "gone"));
    await admin.deleteGroups(["gone"]);
    assert.ok(!(await admin.listGroups()).groups.some((g) => g.groupId === "gone"));
    await admin.disconnect();
  });
});

describe("request size limit", () => {
  test("--kafka-max-request-bytes refuses a larger request; smaller ones are served", async () => {
    const small = await startSpindle(["--kafka-max-request-bytes", "65536"]);
    try {
      const k = new Kafka({
        clientId: "lim",
        brokers: [small.kafka],
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      });
      const producer = k.producer({ retry: { retries: 0 } });
      await producer.connect();
      await producer.send({ topic: "lim", messages: [{ value: "x".repeat(1000) }] });
      await assert.rejects(producer.send({ topic: "lim", messages: [{ value: "x".repeat(200_000) }] }));
      await producer.disconnect();
      assert.match(small.stderr(), /exceeds the limit of 65536/);
    } finally {
      await small.stop();
    }
  });
});
