// amqplib against the AMQP gateway across a restart: a durable queue's counts and bytes are exact, as in
// RabbitMQ. Invariant checked: the transient messages a restart dropped are not counted (declare-ok,
// reject-publish), and x-max-length-bytes counts the recovered messages (reject-publish and drop-head).

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { startTestBroker, type TestBroker } from "./test-broker.ts";

async function open(broker: TestBroker) {
  const conn = await amqplib.connect(broker.url);
  const ch = await conn.createConfirmChannel();
  return { conn, ch };
}

/** Publishes with a confirm; resolves "ack" or "nack". */
function publish(ch: amqplib.ConfirmChannel, q: string, body: string, persistent: boolean) {
  return new Promise<string>((resolve) =>
    ch.sendToQueue(q, Buffer.from(body), { persistent }, (err) => resolve(err ? "nack" : "ack")),
  );
}

async function drain(ch: amqplib.Channel, q: string): Promise<string[]> {
  const out: string[] = [];
  for (let m = await ch.get(q, { noAck: true }); m !== false; m = await ch.get(q, { noAck: true }))
    out.push(m.content.toString());
  return out;
}

async function restart(broker: TestBroker, conn: amqplib.ChannelModel): Promise<TestBroker> {
  await conn.close();
  await broker.close();
  return startTestBroker(broker.dir);
}

test("declare-ok after a restart counts only the persistent messages", async () => {
  let broker = await startTestBroker();
  let { conn, ch } = await open(broker);
  await ch.assertQueue("rc-count", { durable: true });
  for (const [body, persistent] of [
    ["p1", true],
    ["t1", false],
    ["t2", false],
    ["p2", true],
    ["t3", false],
  ] as const)
    await publish(ch, "rc-count", body, persistent);
  broker = await restart(broker, conn);
  ({ conn, ch } = await open(broker));
  assert.equal((await ch.assertQueue("rc-count", { durable: true })).messageCount, 2);
  assert.equal((await ch.checkQueue("rc-count")).messageCount, 2);
  assert.deepEqual(await drain(ch, "rc-count"), ["p1", "p2"]);
  assert.equal((await ch.checkQueue("rc-count")).messageCount, 0);
  await conn.close();
  await broker.close();
});

test("reject-publish after a restart: room left by dropped transient messages is room", async () => {
  let broker = await startTestBroker();
  let { conn, ch } = await open(broker);
  const args = { "x-max-length": 2, "x-overflow": "reject-publish" };
  await ch.assertQueue("rc-reject", { durable: true, arguments: args });
  assert.equal(await publish(ch, "rc-reject", "p1", true), "ack");
  assert.equal(await publish(ch, "rc-reject", "t1", false), "ack");
  assert.equal(await publish(ch, "rc-reject", "full", true), "nack");
  broker = await restart(broker, conn);
  ({ conn, ch } = await open(broker));
  assert.equal(await publish(ch, "rc-reject", "p2", true), "ack", "the queue holds one of two");
  assert.equal(await publish(ch, "rc-reject", "p3", true), "nack");
  assert.deepEqual(await drain(ch, "rc-reject"), ["p1", "p2"]);
  await conn.close();
  await broker.close();
});

test("x-max-length-bytes counts recovered messages: reject-publish and drop-head", async () => {
  let broker = await startTestBroker();
  let { conn, ch } = await open(broker);
  const reject = { "x-max-length-bytes": 10, "x-overflow": "reject-publish" };
  const dropHead = { "x-max-length-bytes": 10 };
  await ch.assertQueue("rc-bytes-reject", { durable: true, arguments: reject });
  await ch.assertQueue("rc-bytes-drop", { durable: true, arguments: dropHead });
  for (const q of ["rc-bytes-reject", "rc-bytes-drop"]) {
    assert.equal(await publish(ch, q, "aaaaa", true), "ack");
    assert.equal(await publish(ch, q, "bbbbb", true), "ack");
  }
  broker = await restart(broker, conn);
  ({ conn, ch } = await open(broker));
  assert.equal(await publish(ch, "rc-bytes-reject", "c", true), "nack", "10 of 10 bytes are held");
  assert.deepEqual(await drain(ch, "rc-bytes-reject"), ["aaaaa", "bbbbb"]);
  assert.equal(await publish(ch, "rc-bytes-drop", "ccccc", true), "ack");
  assert.deepEqual(await drain(ch, "rc-bytes-drop"), ["bbbbb", "ccccc"], "the oldest was dropped");
  await conn.close();
  await broker.close();
});
