// A backlog larger than the in-memory window (32 MiB): messages are read back from the queue's log in order,
// with acks out of order, and the queue ends empty.

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { startTestBroker } from "./test-broker.ts";

test("a 48 MiB backlog is delivered in order from the log", async () => {
  const broker = await startTestBroker();
  const conn = await amqplib.connect(broker.url);
  const ch = await conn.createConfirmChannel();
  const q = "backlog-q";
  await ch.assertQueue(q, { durable: true });
  const count = 12_000;
  const body = Buffer.alloc(4096, 120);
  for (let i = 0; i < count; i++) {
    body.writeUInt32BE(i, 0);
    ch.sendToQueue(q, Buffer.from(body), { persistent: true });
    if (i % 500 === 499) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  assert.equal((await ch.checkQueue(q)).messageCount, count);
  const consumer = await conn.createChannel();
  await consumer.prefetch(200);
  const seen: number[] = [];
  await new Promise<void>((resolve) => {
    let held: amqplib.ConsumeMessage | null = null;
    consumer.consume(q, (m) => {
      if (m === null) return;
      seen.push(m.content.readUInt32BE(0));
      // ack every other message late and out of order
      if (held === null) held = m;
      else {
        consumer.ack(m);
        consumer.ack(held);
        held = null;
      }
      if (seen.length === count) resolve();
    });
  });
  assert.deepEqual(
    seen,
    Array.from({ length: count }, (_, i) => i),
  );
  await consumer.close();
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
  // a no-ack consumer of a backlog is paced by socket back-pressure alone, with no publishes or acks
  // to wake the queue: it must still get everything
  for (let i = 0; i < count; i++) {
    ch.sendToQueue(q, Buffer.from(body), { persistent: false });
    if (i % 500 === 499) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  const noAck = await conn.createChannel();
  let received = 0;
  await new Promise<void>((resolve) => {
    noAck.consume(q, () => ++received === count && resolve(), { noAck: true });
  });
  assert.equal(received, count);
  await ch.deleteQueue(q);
  await conn.close();
  await broker.close();
});
