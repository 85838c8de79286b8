// kafkajs with every Kafka compression codec (gzip built in; snappy, lz4, zstd registered from the broker's
// lib/compression) producing to and consuming from a real spindle process; batches are stored as sent.
// Invariant: the broker never rewrites a compressed batch, and timestamp lookups see inside it.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { Compression } from "@spindle/protocol";
import kafkajs, { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";
import { compress, decompress } from "../../lib/compression.ts";

const { CompressionCodecs, CompressionTypes } = kafkajs;
const LIMIT = 64 * 1024 * 1024;

for (const [type, codec] of [
  [CompressionTypes.Snappy, Compression.Snappy],
  [CompressionTypes.LZ4, Compression.Lz4],
  [CompressionTypes.ZSTD, Compression.Zstd],
] as const) {
  CompressionCodecs[type] = () => ({
    compress: (encoder: { buffer: Buffer }) => compress(codec, encoder.buffer),
    decompress: (buffer: Buffer) => decompress(codec, buffer, LIMIT),
  });
}

let spindle: SpindleProcess;
let kafka: Kafka;

before(async () => {
  spindle = await startSpindle();
  kafka = new Kafka({ clientId: "z", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
});
after(async () => {
  await spindle.stop();
});

test("a codec's native addon is loaded only when a batch first needs it", {
  skip: process.platform !== "linux",
}, async () => {
  const mapped = () => readFileSync(`/proc/${spindle.child.pid}/maps`, "utf8");
  assert.doesNotMatch(mapped(), /zstd-napi|lz4-napi/, "no codec addon at start");
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: "z-lazy", compression: CompressionTypes.ZSTD, messages: [{ value: "v" }] });
  await producer.disconnect();
  assert.match(mapped(), /zstd-napi/, "zstd loaded by the first zstd batch");
  assert.doesNotMatch(mapped(), /lz4-napi/, "lz4 still not loaded");
});

for (const [name, type] of [
  ["none", CompressionTypes.None],
  ["gzip", CompressionTypes.GZIP],
  ["snappy", CompressionTypes.Snappy],
  ["lz4", CompressionTypes.LZ4],
  ["zstd", CompressionTypes.ZSTD],
] as const) {
  test(`${name}: records round-trip and a timestamp inside a batch is found`, async () => {
    const topic = `z-${name}`;
    const producer = kafka.producer();
    await producer.connect();
    const t0 = Date.now() - 100_000;
    const messages = Array.from({ length: 50 }, (_, i) => ({
      key: `k${i}`,
      value: `${name}-${i}-${"y".repeat(200)}`,
      timestamp: String(t0 + i * 1000),
    }));
    await producer.send({ topic, compression: type, messages });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const [at] = await admin.fetchTopicOffsetsByTimestamp(topic, t0 + 20_500);
    assert.equal(at?.offset, "21", "first record at or after the timestamp, inside one compressed batch");
    await admin.disconnect();
    const consumer = kafka.consumer({ groupId: `z-${name}`, sessionTimeout: 10_000 });
    const got: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.push(String(message.value)) });
    const deadline = Date.now() + 20_000;
    while (got.length < 50 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await consumer.disconnect();
    assert.deepEqual(
      got,
      messages.map((m) => m.value),
    );
  });
}
