// kafkajs against a real spindle process: produce with keys, offsets, topic admin, bad input on the wire.
// Invariant: every check talks to the broker over a socket with an unmodified third-party client.

import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { encodeRecordBatch, type ProduceResponse } from "@spindle/protocol";
import { CompressionTypes, Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";
import { request } from "./raw-client.ts";

let spindle: SpindleProcess;
let kafka: Kafka;

before(async () => {
  spindle = await startSpindle();
  kafka = new Kafka({
    clientId: "t",
    brokers: [spindle.kafka],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  });
});
after(async () => {
  await spindle.stop();
});

describe("produce", () => {
  test("acks=-1 returns dense offsets per partition and ListOffsets agrees", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "keys", numPartitions: 3 }] });
    const producer = kafka.producer();
    await producer.connect();
    const res = await producer.send({
      topic: "keys",
      acks: -1,
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` })),
    });
    assert.ok(res.every((r) => r.errorCode === 0));
    const offsets = await admin.fetchTopicOffsets("keys");
    assert.equal(offsets.length, 3);
    const sum = offsets.reduce((n, o) => n + Number(o.high), 0);
    assert.equal(sum, 30);
    for (const o of offsets) assert.equal(o.low, "0");
    await producer.disconnect();
    await admin.disconnect();
  });

  test("a topic is auto-created on first produce with the default partition count", async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic: "auto-1", messages: [{ value: "x" }], compression: CompressionTypes.GZIP });
    const admin = kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: ["auto-1"] });
    assert.equal(meta.topics[0]?.partitions.length, 1);
    const offsets = await admin.fetchTopicOffsets("auto-1");
    assert.equal(offsets[0]?.high, "1");
    await producer.disconnect();
    await admin.disconnect();
  });

  test("offsets by timestamp find the first record at or after it", async () => {
    const producer = kafka.producer();
    await producer.connect();
    const t0 = Date.now() - 10_000;
    await producer.send({
      topic: "times",
      messages: [0, 1, 2, 3].map((i) => ({ value: `m${i}`, timestamp: String(t0 + i * 1000) })),
    });
    const admin = kafka.admin();
    await admin.connect();
    const at = await admin.fetchTopicOffsetsByTimestamp("times", t0 + 1500);
    assert.equal(at[0]?.offset, "2");
    const none = await admin.fetchTopicOffsetsByTimestamp("times", Date.now() + 60_000);
    assert.equal(none[0]?.offset, "4", "kafkajs maps 'no such record' to the latest offset");
    await producer.disconnect();
    await admin.disconnect();
  });
});

describe("bad input", () => {
  function rawExchange(bytes: Buffer): Promise<{ data: Buffer; closed: boolean }> {
    const [host, port] = spindle.kafka.split(":") as [string, string];
    return new Promise((resolve) => {
      const s = connect(Number(port), host);
      const chunks: Buffer[] = [];
      const done = (closed: boolean) => {
        s.destroy();
        resolve({ data: Buffer.concat(chunks), closed });
      };
      s.on("data", (c) => chunks.push(c));
      s.on("close", () => done(true));
      s.on("error", () => done(true));
      s.write(bytes);
      setTimeout(() => done(false), 1000);
    });
  }

  test("a frame larger than the limit is refused before its body arrives", async () => {
    const head = Buffer.alloc(4);
    head.writeInt32BE(200 * 1024 * 1024);
    const r = await rawExchange(head);
    assert.equal(r.closed, true);
  });

  test("a truncated header closes the connection and the broker keeps serving", async () => {
    const frame = Buffer.from([0, 0, 0, 3, 0, 18, 0]);
    const r = await rawExchange(frame);
    assert.equal(r.closed, true);
    const admin = kafka.admin();
    await admin.connect();
    assert.ok(Array.isArray(await admin.listTopics()));
    await admin.disconnect();
  });

  test("an unknown api key gets UNSUPPORTED_VERSION (35)", async () => {
    const frame = Buffer.alloc(4 + 10);
    frame.writeInt32BE(10, 0);
    frame.writeInt16BE(999, 4);
    frame.writeInt16BE(0, 6);
    frame.writeInt32BE(77, 8);
    frame.writeInt16BE(-1, 12);
    const r = await rawExchange(frame);
    assert.equal(r.data.readInt32BE(4), 77);
    assert.equal(r.data.readInt16BE(8), 35);
  });

  test("ApiVersions at an unsupported version gets the v0 error response", async () => {
    const frame = Buffer.alloc(4 + 10);
    frame.writeInt32BE(10, 0);
    frame.writeInt16BE(18, 4);
    frame.writeInt16BE(99, 6);
    frame.writeInt32BE(5, 8);
    frame.writeInt16BE(-1, 12);
    const r = await rawExchange(frame);
    assert.equal(r.data.readInt32BE(4), 5);
    assert.equal(r.data.readInt16BE(8), 35);
    assert.ok(r.data.readInt32BE(10) >= 5, "the api list follows");
  });

  test("invalid topic names get INVALID_TOPIC_EXCEPTION", async () => {
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    await assert.rejects(producer.send({ topic: "bad topic!", messages: [{ value: "x" }] }), (e: Error) => {
      return /INVALID_TOPIC|not valid|Invalid topic/i.test(
        `${e.name} ${e.message} ${(e as { type?: string }).type}`,
      );
    });
    await producer.disconnect();
  });
});

describe("idempotent producer", () => {
  test("kafkajs idempotent producer appends each record once", async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < 5; i++) await producer.send({ topic: "idem", messages: [{ value: `i${i}` }] });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    assert.equal((await admin.fetchTopicOffsets("idem"))[0]?.high, "5");
    await admin.disconnect();
  });

  /** Sends one Produce v7 with a batch of `n` records from producer 4242 at `seq`; returns the partition result. */
  async function produceRaw(seq: number, n: number, epoch = 0, producerId = 4242, topic = "idem-raw") {
    const batch = encodeRecordBatch({
      producerId,
      producerEpoch: epoch,
      baseSequence: seq,
      timestamp: Date.now(),
      records: Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`r${seq + i}`) })),
    });
    const res = await request<ProduceResponse>(spindle.kafka, 0, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
    });
    return res.responses[0]?.partitionResponses[0];
  }

  test("a retried batch is not appended twice; a gap in sequences is refused", async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "idem-raw", numPartitions: 1 }] });
    const first = await produceRaw(0, 3);
    assert.equal(first?.errorCode, 0);
    assert.equal(first?.baseOffset, 0n);
    const retry = await produceRaw(0, 3);
    assert.equal(retry?.errorCode, 0, "a duplicate is answered as success");
    assert.equal(retry?.baseOffset, 0n, "with the first append's offset");
    const gap = await produceRaw(5, 1);
    assert.equal(gap?.errorCode, 45, "OUT_OF_ORDER_SEQUENCE_NUMBER");
    const nextOk = await produceRaw(3, 2);
    assert.equal(nextOk?.baseOffset, 3n);
    const bumped = await produceRaw(0, 1, 1);
    assert.equal(bumped?.errorCode, 0, "a new epoch starts again at sequence 0");
    const fenced = await produceRaw(5, 1, 0);
    assert.equal(fenced?.errorCode, 47, "INVALID_PRODUCER_EPOCH for the old epoch");
    assert.equal((await admin.fetchTopicOffsets("idem-raw"))[0]?.high, "6");
    await admin.disconnect();
  });

  test("a batch retried after a broker restart is still recognised as a duplicate", async () => {
    const first = await produceRaw(0, 3, 0, 777, "idem-restart");
    assert.equal(first?.errorCode, 0);
    await spindle.stop();
    spindle = await startSpindle([], spindle.dataDir);
    kafka = new Kafka({ clientId: "t", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
    const retry = await produceRaw(0, 3, 0, 777, "idem-restart");
    assert.equal(retry?.errorCode, 0);
    assert.equal(retry?.baseOffset, first?.baseOffset, "answered with the offset from before the restart");
    assert.equal((await produceRaw(7, 1, 0, 777, "idem-restart"))?.errorCode, 45);
    assert.equal((await produceRaw(3, 1, 0, 777, "idem-restart"))?.baseOffset, 3n);
  });
});
