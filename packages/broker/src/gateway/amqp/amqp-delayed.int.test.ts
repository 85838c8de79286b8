// amqplib against the AMQP gateway: x-delayed-message exchanges hold messages until their x-delay is due
// and keep them across a restart. Open-source RabbitMQ no longer ships this plugin, so there is no
// differential scenario; the behaviour follows the plugin's documentation.

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { startTestBroker } from "./test-broker.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("messages are routed by x-delayed-type when their x-delay is due, in due order", async () => {
  const broker = await startTestBroker();
  const conn = await amqplib.connect(broker.url);
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange("delayed-x", "x-delayed-message", {
    durable: false,
    arguments: { "x-delayed-type": "direct" },
  });
  const { queue } = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(queue, "delayed-x", "k");
  // each arrival with its time since the publish: the check holds however slow a loaded machine is
  const got: string[] = [];
  const at = new Map<string, number>();
  await ch.consume(
    queue,
    (m) => {
      if (m === null) return;
      got.push(m.content.toString());
      at.set(m.content.toString(), Date.now() - t0);
    },
    { noAck: true },
  );
  const t0 = Date.now();
  ch.publish("delayed-x", "k", Buffer.from("late"), { headers: { "x-delay": 400 } });
  ch.publish("delayed-x", "k", Buffer.from("soon"), { headers: { "x-delay": 150 } });
  ch.publish("delayed-x", "k", Buffer.from("now"));
  ch.publish("delayed-x", "other", Buffer.from("unbound"), { headers: { "x-delay": 50 } });
  await ch.waitForConfirms();
  while (got.length < 3 && Date.now() - t0 < 3000) await sleep(20);
  await sleep(100);
  assert.deepEqual(got, ["now", "soon", "late"]);
  assert.ok((at.get("soon") ?? 0) >= 150, `soon arrived after ${at.get("soon")} ms, before its x-delay`);
  assert.ok((at.get("late") ?? 0) >= 400, `late arrived after ${at.get("late")} ms, before its x-delay`);
  const bad = await conn.createChannel();
  const err = new Promise<{ code: number }>((resolve) => bad.once("error", resolve));
  bad.assertExchange("delayed-bad", "x-delayed-message").catch(() => undefined);
  assert.equal((await err).code, 406, "x-delayed-type is required");
  await conn.close();
  await broker.close();
});

test("a held message that fell due while the broker was down reaches its queue after the restart", async () => {
  let broker = await startTestBroker();
  let conn = await amqplib.connect(broker.url);
  let ch = await conn.createConfirmChannel();
  await ch.assertExchange("delayed-down", "x-delayed-message", {
    durable: true,
    arguments: { "x-delayed-type": "direct" },
  });
  await ch.assertQueue("delayed-down-q", { durable: true });
  await ch.bindQueue("delayed-down-q", "delayed-down", "k");
  ch.publish("delayed-down", "k", Buffer.from("due"), { persistent: true, headers: { "x-delay": 100 } });
  await ch.waitForConfirms();
  await conn.close();
  await broker.close();
  await sleep(300); // due while nothing runs: the restart releases it at once
  broker = await startTestBroker(broker.dir);
  conn = await amqplib.connect(broker.url);
  ch = await conn.createConfirmChannel();
  let m: amqplib.GetMessage | false = false;
  for (let i = 0; i < 50 && m === false; i++) {
    m = await ch.get("delayed-down-q", { noAck: true });
    if (m === false) await sleep(20);
  }
  assert.ok(m, "released into its queue after the restart, not dropped as unroutable");
  assert.equal(m.content.toString(), "due");
  await ch.deleteQueue("delayed-down-q");
  await ch.deleteExchange("delayed-down");
  await conn.close();
  await broker.close();
});

test("held messages survive a restart of a durable delayed exchange", async () => {
  let broker = await startTestBroker();
  let conn = await amqplib.connect(broker.url);
  let ch = await conn.createConfirmChannel();
  await ch.assertExchange("delayed-dur", "x-delayed-message", {
    durable: true,
    arguments: { "x-delayed-type": "fanout" },
  });
  await ch.assertQueue("delayed-dur-q", { durable: true });
  await ch.bindQueue("delayed-dur-q", "delayed-dur", "");
  ch.publish("delayed-dur", "", Buffer.from("held"), { persistent: true, headers: { "x-delay": 500 } });
  await ch.waitForConfirms();
  assert.equal((await ch.checkQueue("delayed-dur-q")).messageCount, 0);
  await ch.close();
  await conn.close();
  await broker.close();
  broker = await startTestBroker(broker.dir);
  conn = await amqplib.connect(broker.url);
  ch = await conn.createConfirmChannel();
  await sleep(800);
  const m = await ch.get("delayed-dur-q", { noAck: true });
  assert.ok(m, "released after the restart");
  assert.equal(m.content.toString(), "held");
  assert.equal((m.properties.headers as Record<string, unknown>)["x-delay"], 500);
  await ch.deleteQueue("delayed-dur-q");
  await ch.deleteExchange("delayed-dur");
  await conn.close();
  await broker.close();
});
