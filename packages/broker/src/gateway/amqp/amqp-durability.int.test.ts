// Restarting the broker on the same data directory: what RabbitMQ keeps (durable queues, persistent
// messages, durable exchanges and bindings) is kept; transient messages and queues are not; acked
// messages are never delivered again, also when acked out of order.

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { startTestBroker } from "./test-broker.ts";

async function getAll(ch: amqplib.Channel, queue: string): Promise<amqplib.GetMessage[]> {
  const out: amqplib.GetMessage[] = [];
  for (;;) {
    const m = await ch.get(queue, { noAck: false });
    if (m === false) return out;
    out.push(m);
  }
}

test("durable definitions and persistent messages survive a restart; acked ones stay gone", async () => {
  let broker = await startTestBroker();
  let conn = await amqplib.connect(broker.url);
  let ch = await conn.createConfirmChannel();
  await ch.assertExchange("dur-x", "topic", { durable: true });
  await ch.assertQueue("dur-q", { durable: true });
  await ch.assertQueue("trans-q", { durable: false });
  await ch.bindQueue("dur-q", "dur-x", "k.#");
  for (let i = 0; i < 6; i++) ch.publish("dur-x", "k.a", Buffer.from(`p${i}`), { persistent: true });
  ch.publish("dur-x", "k.a", Buffer.from("transient"), { persistent: false });
  ch.sendToQueue("trans-q", Buffer.from("gone"));
  await ch.waitForConfirms();
  const got = await getAll(ch, "dur-q");
  assert.equal(got.length, 7);
  ch.ack(got[1] as amqplib.GetMessage);
  ch.ack(got[3] as amqplib.GetMessage);
  ch.ack(got[0] as amqplib.GetMessage);
  await ch.close();
  await conn.close();
  await broker.close();

  broker = await startTestBroker(broker.dir);
  conn = await amqplib.connect(broker.url);
  ch = await conn.createConfirmChannel();
  const after = await getAll(ch, "dur-q");
  assert.deepEqual(
    after.map((m) => m.content.toString()),
    ["p2", "p4", "p5"],
  );
  const probe = await conn.createChannel();
  const err = new Promise<{ code: number }>((resolve) => probe.once("error", resolve));
  probe.checkQueue("trans-q").catch(() => undefined);
  assert.equal((await err).code, 404, "a non-durable queue is gone after a restart");
  ch.sendToQueue("dur-q", Buffer.from("default-exchange"), { persistent: true });
  ch.publish("dur-x", "k.b", Buffer.from("after-restart"), { persistent: true });
  await ch.waitForConfirms();
  assert.deepEqual(
    (await getAll(ch, "dur-q")).map((m) => m.content.toString()),
    ["default-exchange", "after-restart"],
  );
  await ch.deleteQueue("dur-q");
  await ch.deleteExchange("dur-x");
  await conn.close();
  await broker.close();
});
