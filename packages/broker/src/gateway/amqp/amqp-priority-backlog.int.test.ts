// x-max-priority across a backlog larger than the in-memory window (32 MiB): higher priorities published
// behind it are delivered first, as RabbitMQ does, both while running and after a restart.

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { startTestBroker, type TestBroker } from "./test-broker.ts";

const LOW = 9_000; // 9,000 × 4 KiB = 36 MiB of priority 0, more than the window
const BODY = Buffer.alloc(4096, 120);
const Q = "prio-backlog";

/** The backlog, then priorities 5 and 9 interleaved behind it; returns the high ones in publish order. */
async function publish(broker: TestBroker): Promise<{ p9: number[]; p5: number[] }> {
  const conn = await amqplib.connect(broker.url);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue(Q, { durable: true, arguments: { "x-max-priority": 10 } });
  const send = (n: number, priority: number) => {
    const body = Buffer.from(BODY);
    body.writeUInt32BE(n, 0);
    ch.sendToQueue(Q, body, { persistent: true, priority });
  };
  for (let i = 0; i < LOW; i++) {
    send(i, 0);
    if (i % 500 === 499) await ch.waitForConfirms();
  }
  const p9: number[] = [];
  const p5: number[] = [];
  for (let i = LOW; i < LOW + 20; i++) {
    const nine = i % 3 === 0;
    send(i, nine ? 9 : 5);
    (nine ? p9 : p5).push(i);
  }
  await ch.waitForConfirms();
  assert.equal((await ch.checkQueue(Q)).messageCount, LOW + 20);
  await conn.close();
  return { p9, p5 };
}

/** Consumes `n` messages one at a time (prefetch 1), acking each; returns their numbers in order. */
async function consume(broker: TestBroker, n: number): Promise<number[]> {
  const conn = await amqplib.connect(broker.url);
  const ch = await conn.createChannel();
  await ch.prefetch(1);
  const seen: number[] = [];
  await new Promise<void>((resolve) => {
    ch.consume(Q, (m) => {
      if (m === null) return;
      seen.push(m.content.readUInt32BE(0));
      ch.ack(m);
      if (seen.length === n) resolve();
    });
  });
  await ch.close(); // amqplib would write connection.close ahead of the last ack
  await conn.close();
  return seen;
}

function expected(high: { p9: number[]; p5: number[] }, lowFrom: number): number[] {
  const low = Array.from({ length: LOW - lowFrom }, (_, i) => lowFrom + i);
  return [...high.p9, ...high.p5, ...low];
}

test("higher priorities behind a backlog larger than the window are delivered first", async () => {
  const broker = await startTestBroker();
  const high = await publish(broker);
  assert.deepEqual(await consume(broker, LOW + 20), expected(high, 0));
  const conn = await amqplib.connect(broker.url);
  const ch = await conn.createChannel();
  assert.equal((await ch.checkQueue(Q)).messageCount, 0);
  await conn.close();
  await broker.close();
});

test("after a restart the priorities waiting in the log still come first", async () => {
  let broker = await startTestBroker();
  const high = await publish(broker);
  // a consumer takes a few low ones first, so the queue restarts part-way through its log
  const conn = await amqplib.connect(broker.url);
  const ch = await conn.createChannel();
  for (const n of high.p9)
    assert.equal(((await ch.get(Q, { noAck: true })) as amqplib.GetMessage).content.readUInt32BE(0), n);
  await conn.close();
  await broker.close();
  broker = await startTestBroker(broker.dir);
  const rest = await consume(broker, LOW + 20 - high.p9.length);
  assert.deepEqual(rest, expected({ p9: [], p5: high.p5 }, 0));
  await broker.close();
});
