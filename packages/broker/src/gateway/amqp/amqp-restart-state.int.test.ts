// Delivery state that RabbitMQ keeps across a restart, against the real `spindle start` process stopped
// cleanly (SIGTERM) and killed (SIGKILL, after the ack log's 5 ms flush): messages handed out and not
// acked come back with `redelivered` set, messages never handed out without it, and x-delivery-limit
// keeps counting requeues instead of starting again.

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { startSpindle } from "../../../../../test/support/spindle-process.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connect(url: string): Promise<{ conn: amqplib.ChannelModel; ch: amqplib.ConfirmChannel }> {
  const conn = await amqplib.connect(url);
  conn.on("error", () => undefined);
  const ch = await conn.createConfirmChannel();
  ch.on("error", () => undefined);
  return { conn, ch };
}

for (const hard of [false, true]) {
  const how = hard ? "SIGKILL" : "SIGTERM";

  test(`redelivered survives a restart (${how})`, async () => {
    const first = await startSpindle();
    const a = await connect(first.url);
    await a.ch.assertQueue("rs-q", { durable: true });
    for (const body of ["got", "consumed", "waiting"])
      a.ch.sendToQueue("rs-q", Buffer.from(body), { persistent: true });
    await a.ch.waitForConfirms();
    const got = await a.ch.get("rs-q", { noAck: false });
    assert.ok(got);
    assert.equal(got.content.toString(), "got");
    assert.equal(got.fields.redelivered, false);
    await a.ch.prefetch(1);
    const consumed = new Promise<amqplib.ConsumeMessage>((resolve) => {
      a.ch.consume("rs-q", (m) => m && resolve(m), { noAck: false }).catch(() => undefined);
    });
    assert.equal((await consumed).content.toString(), "consumed");
    // neither is acked; "waiting" was never handed out (prefetch 1)
    await sleep(100);
    if (!hard) await a.conn.close();
    await first.stop(hard);

    const second = await startSpindle([], first.dataDir);
    const b = await connect(second.url);
    const after: [string, boolean][] = [];
    for (
      let m = await b.ch.get("rs-q", { noAck: true });
      m !== false;
      m = await b.ch.get("rs-q", { noAck: true })
    )
      after.push([m.content.toString(), m.fields.redelivered]);
    assert.deepEqual(after, [
      ["got", true],
      ["consumed", true],
      ["waiting", false],
    ]);
    // a message published after the restart was never delivered
    b.ch.sendToQueue("rs-q", Buffer.from("new"), { persistent: true });
    await b.ch.waitForConfirms();
    const fresh = await b.ch.get("rs-q", { noAck: true });
    assert.ok(fresh);
    assert.equal(fresh.fields.redelivered, false);
    await b.conn.close();
    await second.stop();
  });

  test(`x-delivery-limit counts requeues across a restart (${how})`, async () => {
    const first = await startSpindle();
    const a = await connect(first.url);
    await a.ch.assertExchange("rs-dlx", "fanout", { durable: true });
    await a.ch.assertQueue("rs-dead", { durable: true });
    await a.ch.bindQueue("rs-dead", "rs-dlx", "");
    const args = { "x-delivery-limit": 2, "x-dead-letter-exchange": "rs-dlx" };
    await a.ch.assertQueue("rs-limit", { durable: true, arguments: args });
    a.ch.sendToQueue("rs-limit", Buffer.from("poison"), { persistent: true });
    a.ch.sendToQueue("rs-limit", Buffer.from("fine"), { persistent: true });
    await a.ch.waitForConfirms();
    // two requeues are within the limit
    for (let i = 0; i < 2; i++) {
      const m = await a.ch.get("rs-limit", { noAck: false });
      assert.ok(m);
      assert.equal(m.content.toString(), "poison");
      a.ch.nack(m, false, true);
    }
    await sleep(100);
    if (!hard) await a.conn.close();
    await first.stop(hard);

    const second = await startSpindle([], first.dataDir);
    const b = await connect(second.url);
    const m = await b.ch.get("rs-limit", { noAck: false });
    assert.ok(m);
    assert.equal(m.content.toString(), "poison");
    const redelivered = m.fields.redelivered;
    // the third requeue is over the limit, as it would have been without the restart
    b.ch.nack(m, false, true);
    await sleep(100);
    const rest = await b.ch.get("rs-limit", { noAck: true });
    assert.ok(rest);
    assert.equal(rest.content.toString(), "fine", "the poison message is not requeued a third time");
    assert.equal(rest.fields.redelivered, false);
    const dead = await b.ch.get("rs-dead", { noAck: true });
    assert.ok(dead, "the poison message was dead-lettered");
    assert.equal(dead.content.toString(), "poison");
    const h = dead.properties.headers as Record<string, unknown>;
    assert.equal(h["x-first-death-reason"], "delivery_limit");
    assert.equal(redelivered, true);
    await b.conn.close();
    await second.stop();
  });
}
