// kafkajs consumers against a real spindle process: per-key order, a group of three that rebalances,
// committed offsets that survive a restart, seek to a timestamp.
// Invariant: every check uses unmodified kafkajs over a socket; nothing inside the broker is stubbed.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Consumer, type EachMessagePayload, Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";

let spindle: SpindleProcess;

function client(s: SpindleProcess): Kafka {
  return new Kafka({ clientId: "g", brokers: [s.kafka], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
}

before(async () => {
  spindle = await startSpindle();
});
after(async () => {
  await spindle.stop();
});

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function produce(kafka: Kafka, topic: string, n: number, from = 0): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const messages = Array.from({ length: n }, (_, i) => ({
    key: `key-${(from + i) % 7}`,
    value: String(from + i),
  }));
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

describe("consume", () => {
  test("one consumer reads every record with per-key order across partitions", async () => {
    const kafka = client(spindle);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "orders", numPartitions: 4 }] });
    await admin.disconnect();
    await produce(kafka, "orders", 200);
    const seen = new Map<string, number[]>();
    const consumer = kafka.consumer({ groupId: "solo", sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topics: ["orders"], fromBeginning: true });
    let count = 0;
    await consumer.run({
      eachMessage: async ({ message }: EachMessagePayload) => {
        const key = String(message.key);
        const list = seen.get(key) ?? [];
        list.push(Number(String(message.value)));
        seen.set(key, list);
        count++;
      },
    });
    await until("200 records", () => count >= 200);
    await consumer.disconnect();
    assert.equal(count, 200);
    for (const [key, values] of seen) {
      assert.deepEqual(
        values,
        [...values].sort((a, b) => a - b),
        `order of ${key}`,
      );
    }
  });
});

describe("consumer group", () => {
  test("three members share partitions, rebalance when one leaves and when one joins", async () => {
    const kafka = client(spindle);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "shared", numPartitions: 6 }] });
    const assigned = new Map<string, number[]>();
    const got = new Set<string>();
    const start = (name: string): Consumer => {
      const c = kafka.consumer({ groupId: "trio", sessionTimeout: 10_000, heartbeatInterval: 500 });
      c.on(c.events.GROUP_JOIN, (e) => {
        assigned.set(name, e.payload.memberAssignment.shared ?? []);
      });
      return c;
    };
    const members = ["a", "b", "c"].map((n) => ({ name: n, c: start(n) }));
    for (const m of members) {
      await m.c.connect();
      await m.c.subscribe({ topics: ["shared"], fromBeginning: true });
      await m.c.run({ eachMessage: async ({ message }) => void got.add(String(message.value)) });
    }
    const spread = () => [...assigned.values()].filter((p) => p.length === 2).length === 3;
    await until("three members with two partitions each", spread);
    await produce(kafka, "shared", 60);
    await until("60 records", () => got.size === 60);

    await members[2]?.c.disconnect();
    assigned.delete("c");
    await until("two members with three partitions each", () => {
      const sizes = [...assigned.values()].map((p) => p.length);
      return sizes.length === 2 && sizes.every((n) => n === 3);
    });
    await produce(kafka, "shared", 60, 60);
    await until("120 records", () => got.size === 120);

    const d = start("d");
    await d.connect();
    await d.subscribe({ topics: ["shared"], fromBeginning: true });
    await d.run({ eachMessage: async ({ message }) => void got.add(String(message.value)) });
    await until("a new member gets its share", spread);

    const described = await admin.describeGroups(["trio"]);
    assert.equal(described.groups[0]?.members.length, 3);
    assert.equal(described.groups[0]?.state, "Stable");
    for (const m of [members[0], members[1]]) await m?.c.disconnect();
    await d.disconnect();
    await admin.disconnect();
  });
});

describe("committed offsets", () => {
  test("survive a broker restart, and a consumer resumes after them", async () => {
    const dataDir = spindle.dataDir;
    let kafka = client(spindle);
    await produce(kafka, "resume", 10);
    const first = kafka.consumer({ groupId: "resumer", sessionTimeout: 10_000 });
    await first.connect();
    await first.subscribe({ topics: ["resume"], fromBeginning: true });
    let n = 0;
    await first.run({ autoCommitThreshold: 1, eachMessage: async () => void n++ });
    await until("10 records", () => n === 10);
    await first.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const before = await admin.fetchOffsets({ groupId: "resumer", topics: ["resume"] });
    assert.equal(before[0]?.partitions[0]?.offset, "10");
    await admin.disconnect();

    await spindle.stop();
    spindle = await startSpindle([], dataDir);
    kafka = client(spindle);
    const admin2 = kafka.admin();
    await admin2.connect();
    const afterRestart = await admin2.fetchOffsets({ groupId: "resumer", topics: ["resume"] });
    assert.equal(afterRestart[0]?.partitions[0]?.offset, "10");
    const groups = await admin2.listGroups();
    assert.ok(groups.groups.some((g) => g.groupId === "resumer"));
    await admin2.disconnect();

    await produce(kafka, "resume", 5, 10);
    const second = kafka.consumer({ groupId: "resumer", sessionTimeout: 10_000 });
    const values: string[] = [];
    await second.connect();
    await second.subscribe({ topics: ["resume"], fromBeginning: true });
    await second.run({ eachMessage: async ({ message }) => void values.push(String(message.value)) });
    await until("5 new records", () => values.length >= 5);
    await second.disconnect();
    assert.deepEqual(values, ["10", "11", "12", "13", "14"]);
  });
});

describe("seek", () => {
  test("to an offset found by timestamp", async () => {
    const kafka = client(spindle);
    const producer = kafka.producer();
    await producer.connect();
    const t0 = Date.now() - 60_000;
    await producer.send({
      topic: "stamped",
      messages: [0, 1, 2, 3, 4].map((i) => ({ value: `s${i}`, timestamp: String(t0 + i * 1000) })),
    });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const [at] = await admin.fetchTopicOffsetsByTimestamp("stamped", t0 + 2500);
    await admin.disconnect();
    const consumer = kafka.consumer({ groupId: "seeker", sessionTimeout: 10_000 });
    const values: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: ["stamped"] });
    await consumer.run({ eachMessage: async ({ message }) => void values.push(String(message.value)) });
    consumer.seek({ topic: "stamped", partition: 0, offset: at?.offset ?? "0" });
    await until("records after the timestamp", () => values.length >= 2);
    await consumer.disconnect();
    assert.deepEqual(values.slice(0, 2), ["s3", "s4"]);
  });
});
