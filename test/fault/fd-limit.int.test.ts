// File descriptors under a low `ulimit -n`: idle connections beyond the limit, partitions beyond the budget,
// and a data dir with more partitions than the limit allows open at once. Runs the real `spindle` process.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import amqplib from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kafkaClient(broker: string): Kafka {
  return new Kafka({
    brokers: [broker],
    clientId: "fd-limit-test",
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 100 },
  });
}

function openFds(p: SpindleProcess): number {
  return readdirSync(`/proc/${p.child.pid}/fd`).length;
}

function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(":");
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

/** Opens `n` TCP connections that never send a byte; `open` counts those the broker has not closed. */
function idleConnections(address: string, n: number) {
  const { host, port } = hostPort(address);
  const sockets: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < n; i++) {
    const s = connect(port, host);
    s.on("error", () => undefined);
    s.on("close", () => closed++);
    sockets.push(s);
  }
  return {
    open: () => n - closed,
    destroy: () => {
      for (const s of sockets) s.destroy();
    },
  };
}

/** CreateTopics through confluent-kafka (librdkafka); returns the outcome as librdkafka reports it. */
function createTopicWithLibrdkafka(broker: string, topic: string, partitions: number): string {
  const script = [
    "import sys",
    "from confluent_kafka.admin import AdminClient, NewTopic",
    "admin = AdminClient({'bootstrap.servers': sys.argv[1]})",
    "future = admin.create_topics([NewTopic(sys.argv[2], int(sys.argv[3]), 1)])[sys.argv[2]]",
    "try:",
    "    future.result(30)",
    "    print('created')",
    "except Exception as e:",
    "    print(e.args[0].name(), e.args[0].str())",
  ].join("\n");
  const r = spawnSync("/usr/bin/python3", ["-c", script, broker, topic, String(partitions)], {
    encoding: "utf8",
    timeout: 40_000,
  });
  return `${r.stdout}${r.stderr}`;
}

/** Opens an AMQP connection with pika; returns how it went as pika reports it. */
function connectWithPika(port: number): string {
  const script = [
    "import sys, pika",
    "try:",
    "    params = pika.ConnectionParameters(host='127.0.0.1', port=int(sys.argv[1]), connection_attempts=1)",
    "    pika.BlockingConnection(params).close()",
    "    print('connected')",
    "except Exception as e:",
    "    print(repr(e))",
  ].join("\n");
  const r = spawnSync("/usr/bin/python3", ["-c", script, String(port)], {
    encoding: "utf8",
    timeout: 20_000,
  });
  return `${r.stdout}${r.stderr}`;
}

async function httpStatus(address: string): Promise<number> {
  const res = await fetch(`http://${address}/healthz`);
  await res.arrayBuffer();
  return res.status;
}

test("1,100 idle connections under ulimit -n 1024: the excess is refused per protocol, the broker serves on", async () => {
  const broker = await startSpindle([], undefined, { fdLimit: 1024 });
  try {
    const amqpIdle = idleConnections(`127.0.0.1:${broker.port}`, 550);
    const kafkaIdle = idleConnections(broker.kafka, 550);
    // the resource alarms sample meanwhile (they crashed with EMFILE), and the refused AMQP sockets that
    // sent nothing are closed (2 s of silence), so a real client can hear its refusal
    await sleep(3000);
    assert.equal(broker.child.exitCode, null, `the broker exited: ${broker.stderr()}`);

    // AMQP: as RabbitMQ, the handshake completes and connection.open is answered with 530 (pika shows the
    // reply; amqplib only that a connection.close came instead of open-ok)
    const refused = connectWithPika(broker.port);
    assert.match(refused, /530/);
    assert.match(refused, /NOT_ALLOWED - connection refused: node connection limit \(\d+\) is reached/);
    await assert.rejects(amqplib.connect(broker.url), /ConnectionClose/);
    // HTTP: 503
    assert.equal(await httpStatus(broker.http), 503);
    const held = amqpIdle.open() + kafkaIdle.open();
    assert.ok(held < 1000, `${held} idle connections held open under ulimit -n 1024`);
    assert.ok(kafkaIdle.open() < 550, "Kafka connections beyond the limit are closed at once");
    assert.ok(openFds(broker) < 1024, "descriptors stay below the limit");
    const warnings = broker.stderr().match(/connection limit \(\d+\) reached/g) ?? [];
    assert.equal(warnings.length, 1, "one warning for the burst, not one per connection");

    amqpIdle.destroy();
    kafkaIdle.destroy();
    await sleep(300);
    const conn = await amqplib.connect(broker.url);
    const ch = await conn.createChannel();
    await ch.assertQueue("after-burst");
    await conn.close();
    assert.equal(await httpStatus(broker.http), 200);
    const producer = kafkaClient(broker.kafka).producer();
    await producer.connect();
    await producer.send({ topic: "after-burst", messages: [{ value: "x" }] });
    await producer.disconnect();
  } finally {
    await broker.stop();
  }
});

test("with every descriptor taken (--max-connections above ulimit -n) accepting stops, nothing throws, and it resumes", async () => {
  const broker = await startSpindle(["--max-connections", "2000"], undefined, { fdLimit: 1024 });
  try {
    assert.match(broker.stderr(), /--max-connections 2000 leaves too few of the 1024 file descriptors/);
    const flood = idleConnections(broker.kafka, 1100);
    await sleep(2500);
    assert.equal(broker.child.exitCode, null, `the broker exited: ${broker.stderr()}`);
    assert.match(broker.stderr(), /cannot read the process's RSS/);
    flood.destroy();
    await sleep(300);
    const producer = kafkaClient(broker.kafka).producer();
    await producer.connect();
    await producer.send({ topic: "after-flood", messages: [{ value: "x" }] });
    await producer.disconnect();
    assert.equal(await httpStatus(broker.http), 200);
  } finally {
    await broker.stop();
  }
});

test("--max-connections counts AMQP, Kafka and HTTP together", async () => {
  const broker = await startSpindle(["--max-connections", "3"]);
  try {
    const kafkaIdle = idleConnections(broker.kafka, 2);
    const conn = await amqplib.connect(broker.url);
    await sleep(200);
    assert.equal(await httpStatus(broker.http), 503);
    await assert.rejects(amqplib.connect(broker.url), /ConnectionClose/);
    const extra = idleConnections(broker.kafka, 1);
    await sleep(300);
    assert.equal(extra.open(), 0, "a Kafka connection past the limit is closed at once");
    assert.equal(kafkaIdle.open(), 2);
    await conn.close();
    await sleep(200);
    assert.equal(await httpStatus(broker.http), 200);
    kafkaIdle.destroy();
  } finally {
    await broker.stop();
  }
});

test("a 600-partition topic under ulimit -n 1024 is refused with POLICY_VIOLATION naming the limit; restart works", async () => {
  const broker = await startSpindle([], undefined, { fdLimit: 1024 });
  const admin = kafkaClient(broker.kafka).admin();
  await admin.connect();
  try {
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: "big-0", numPartitions: 600 }] }),
      (e: Error & { errors?: { type: string }[] }) => e.errors?.[0]?.type === "POLICY_VIOLATION",
    );
    // librdkafka shows the broker's message: it names the limit and what to change
    const created = createTopicWithLibrdkafka(broker.kafka, "big-1", 600);
    assert.match(created, /POLICY_VIOLATION/);
    assert.match(
      created,
      /topic big-1 needs 600 more logs: 0 of the \d+ the open-file limit allows are in use/,
    );
    assert.match(created, /raise ulimit -n \(now 1024\)/);
    assert.ok(await admin.createTopics({ topics: [{ topic: "fits", numPartitions: 200 }] }));
    await assert.rejects(
      admin.createPartitions({ topicPartitions: [{ topic: "fits", count: 800 }] }),
      (e: Error & { type?: string }) => e.type === "POLICY_VIOLATION",
    );
    // durable queues share the budget (two logs each): refused with 406 on the channel, as RabbitMQ's
    // "queue limit in vhost is reached"
    const conn = await amqplib.connect(broker.url);
    conn.on("error", () => undefined);
    let declared = 0;
    await assert.rejects(
      (async () => {
        for (;;) {
          const ch = await conn.createChannel();
          ch.on("error", () => undefined);
          await ch.assertQueue(`q-${declared}`, { durable: true });
          declared++;
          await ch.close();
        }
      })(),
      /406 \(PRECONDITION-FAILED\).*durable queue 'q-\d+' needs 2 more logs.*ulimit -n/,
    );
    assert.ok(declared > 50 && declared < 200, `${declared} durable queues declared`);
    await conn.close();
  } finally {
    await admin.disconnect();
  }
  assert.equal(broker.child.exitCode, null, `the broker exited: ${broker.stderr()}`);
  await broker.stop();
  const again = await startSpindle([], broker.dataDir, { fdLimit: 1024 });
  const topics = await kafkaClient(again.kafka).admin();
  await topics.connect();
  assert.deepEqual((await topics.listTopics()).sort(), ["fits"]);
  await topics.disconnect();
  await again.stop();
});

test("1,200 partitions made under a higher limit start and serve under ulimit -n 1024 (segment files open lazily)", async () => {
  const big = await startSpindle([], undefined, { fdLimit: 4096 });
  const names = ["wide-0", "wide-1"];
  let kafka = kafkaClient(big.kafka);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: names.map((topic) => ({ topic, numPartitions: 600 })) });
  await admin.disconnect();
  const everyPartition = (value: string) =>
    names.map((topic) => ({
      topic,
      messages: Array.from({ length: 600 }, (_, partition) => ({ partition, value })),
    }));
  let producer = kafka.producer();
  await producer.connect();
  await producer.sendBatch({ topicMessages: everyPartition("first") });
  await producer.disconnect();
  await big.stop();

  const small = await startSpindle([], big.dataDir, { fdLimit: 1024 });
  try {
    assert.ok(openFds(small) < 1024, `${openFds(small)} descriptors open after start`);
    kafka = kafkaClient(small.kafka);
    producer = kafka.producer();
    await producer.connect();
    await producer.sendBatch({ topicMessages: everyPartition("second") });
    await producer.disconnect();
    const check = kafka.admin();
    await check.connect();
    for (const topic of names) {
      const offsets = await check.fetchTopicOffsets(topic);
      assert.equal(offsets.length, 600);
      for (const o of offsets) assert.equal(o.high, "2", `${topic}-${o.partition}`);
    }
    await check.disconnect();
    assert.ok(openFds(small) < 1024, `${openFds(small)} descriptors open after writing every partition`);
    const consumer = kafka.consumer({ groupId: "fd-limit-read" });
    await consumer.connect();
    await consumer.subscribe({ topic: "wide-1", fromBeginning: true });
    let read = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${read} of 1200 records`)), 20_000);
      void consumer.run({
        eachMessage: async () => {
          if (++read === 1200) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    assert.equal(small.child.exitCode, null);
  } finally {
    await small.stop();
  }
});
