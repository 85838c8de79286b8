// What one AMQP peer can make the broker hold, over raw sockets with a short handshake deadline: a trickled
// handshake is closed at its deadline, and a publisher blocked by an alarm mid-body finishes that message
// (its bytes would otherwise stay held until the alarm clears) and stops before the next.

import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import * as amqp from "@spindle/protocol/amqp";
import amqplib from "amqplib";
import { openRawAmqp } from "../../../../../test/support/raw-amqp.ts";
import { MemoryAccount } from "../../lib/index.ts";
import { PublishGate } from "./publish-gate.ts";
import { startTestBroker, type TestBroker } from "./test-broker.ts";

const HANDSHAKE_MS = 1000;
const gate = new PublishGate();
const memory = new MemoryAccount();
let broker: TestBroker;
before(async () => {
  broker = await startTestBroker(undefined, undefined, {
    handshakeMs: HANDSHAKE_MS,
    publishGate: gate,
    memory,
  });
});
after(() => broker.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a handshake trickled a byte at a time is closed at the deadline from connect", async () => {
  const s = connect(broker.port, "127.0.0.1");
  s.on("error", () => undefined);
  const t0 = Date.now();
  const closed = new Promise<number>((resolve) => s.once("close", () => resolve(Date.now() - t0)));
  // the protocol header and a valid connection.start-ok, one byte per 100 ms: each byte would have
  // restarted an idle timeout, and none of them is an error
  const startOk = amqp.encodeFrame({
    type: "method",
    channel: 0,
    method: amqp.createMethod("connection.start-ok", {
      clientProperties: { padding: "x".repeat(200) },
      mechanism: "PLAIN",
      response: Buffer.from("\0guest\0guest"),
    }),
  });
  const bytes = [...amqp.PROTOCOL_HEADER, ...startOk];
  const trickle = setInterval(() => s.writable && s.write(Buffer.from([bytes.shift() ?? 0])), 100);
  try {
    const ms = await Promise.race([closed, sleep(4 * HANDSHAKE_MS).then(() => -1)]);
    assert.ok(
      ms >= HANDSHAKE_MS - 100 && ms < 2 * HANDSHAKE_MS,
      `closed after ${ms} ms (deadline ${HANDSHAKE_MS})`,
    );
  } finally {
    clearInterval(trickle);
    s.destroy();
  }
});

test("an alarm raised mid-body lets that message finish, then holds the publisher until it clears", async () => {
  const p = await openRawAmqp(broker.port);
  try {
    p.send(1, amqp.createMethod("channel.open", {}));
    p.send(1, amqp.createMethod("queue.declare", { queue: "mid-body" }));
    while ((await p.nextMethod())?.name !== "queue.declare-ok");
    const body = Buffer.alloc(1000, 1);
    p.startPublish(1, "mid-body", 2 * body.length);
    p.body(1, body);
    await sleep(100);
    gate.setBlocked("low on memory");
    assert.equal((await p.nextMethod())?.name, "connection.blocked");
    p.body(1, body); // the rest of the body in progress
    p.startPublish(1, "mid-body", 10); // the next message: held unread
    p.body(1, Buffer.alloc(10));
    const q = () => broker.vhost.queue("mid-body", "test").messageCount;
    for (let i = 0; i < 100 && q() < 1; i++) await sleep(10);
    await sleep(200);
    assert.equal(q(), 1, "the body in progress completed, the next message waits");
    gate.setBlocked(null);
    assert.equal((await p.nextMethod())?.name, "connection.unblocked");
    for (let i = 0; i < 100 && q() < 2; i++) await sleep(10);
    assert.equal(q(), 2);
  } finally {
    gate.setBlocked(null);
    p.socket.destroy();
  }
});

test("the memory account sees unacked deliveries and unfinished bodies, and gets every byte back", async () => {
  const before = memory.byKind().queueWindows; // the earlier tests' messages waiting in their queue
  const conn = await amqplib.connect(broker.url);
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue("held");
  for (let i = 0; i < 10; i++) ch.sendToQueue("held", Buffer.alloc(1000));
  await ch.waitForConfirms();
  const got: amqplib.ConsumeMessage[] = [];
  await ch.consume("held", (m) => m && got.push(m));
  for (let i = 0; i < 100 && got.length < 10; i++) await sleep(10);
  assert.equal(memory.byKind().amqpUnacked, 10_000);
  ch.ack(got[4] as amqplib.ConsumeMessage, true);
  await ch.checkQueue("held");
  assert.equal(memory.byKind().amqpUnacked, 5000, "five acked with multiple");

  const p = await openRawAmqp(broker.port);
  p.send(1, amqp.createMethod("channel.open", {}));
  p.startPublish(1, "held", 5000);
  p.body(1, Buffer.alloc(3000));
  for (let i = 0; i < 100 && memory.byKind().amqpBodies < 3000; i++) await sleep(10);
  assert.equal(memory.byKind().amqpBodies, 3000);

  await conn.close(); // the unacked five are requeued
  p.socket.destroy();
  const settledDown = () =>
    memory.totalBytes === memory.byKind().queueWindows + memory.byKind().queueRequeued;
  for (let i = 0; i < 100 && !settledDown(); i++) await sleep(10);
  assert.ok(settledDown(), JSON.stringify(memory.byKind()));
  const requeued = memory.byKind().queueRequeued;
  assert.ok(requeued > 5000 && requeued < 6000, `the requeued five wait in memory: ${requeued} bytes`);
  await broker.vhost.queue("held", "test").purge();
  assert.equal(memory.totalBytes, before, `purged: nothing more is held ${JSON.stringify(memory.byKind())}`);
});
