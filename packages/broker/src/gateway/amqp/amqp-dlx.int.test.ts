// amqplib against the AMQP gateway: TTL (queue and per message), x-expires, max-length with overflow
// policies, and dead-lettering with x-death as RabbitMQ writes it.
// Invariant: waits are bounded and generous; each assertion would fail if the feature were missing. The
// broker runs on fake time, so TTL and x-expires are tested by advancing its clock, not by sleeping.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { FakeClock } from "../../testing/index.ts";
import { startTestBroker, type TestBroker } from "./test-broker.ts";

const clock = new FakeClock();
let broker: TestBroker;
let conn: amqplib.ChannelModel;
before(async () => {
  broker = await startTestBroker(undefined, clock);
  conn = await amqplib.connect(broker.url);
});
after(async () => {
  await conn.close();
  await broker.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let n = 0;

async function withDlx(args: Record<string, unknown>) {
  const ch = await conn.createConfirmChannel();
  const dlx = `dlx-${++n}`;
  await ch.assertExchange(dlx, "fanout", { durable: false });
  const dlq = (await ch.assertQueue("", { exclusive: true })).queue;
  await ch.bindQueue(dlq, dlx, "");
  const q = (
    await ch.assertQueue("", { exclusive: true, arguments: { "x-dead-letter-exchange": dlx, ...args } })
  ).queue;
  return { ch, q, dlq, dlx };
}

async function bodies(ch: amqplib.Channel, q: string): Promise<string[]> {
  const out: string[] = [];
  for (let m = await ch.get(q, { noAck: true }); m !== false; m = await ch.get(q, { noAck: true })) {
    out.push(m.content.toString());
  }
  return out;
}

test("reject without requeue dead-letters with x-death and x-first-death-*", async () => {
  const { ch, q, dlq, dlx } = await withDlx({});
  ch.sendToQueue(q, Buffer.from("bad"), { expiration: "60000", headers: { app: "x" } });
  await ch.waitForConfirms();
  const m = await ch.get(q);
  assert.ok(m);
  ch.reject(m, false);
  await sleep(100);
  const d = await ch.get(dlq, { noAck: true });
  assert.ok(d);
  assert.equal(d.fields.exchange, dlx);
  assert.equal(d.fields.routingKey, q);
  assert.equal(d.properties.expiration, undefined, "expiration moves into x-death");
  const h = d.properties.headers as Record<string, unknown>;
  assert.equal(h.app, "x");
  assert.equal(h["x-first-death-reason"], "rejected");
  assert.equal(h["x-first-death-queue"], q);
  const [death] = h["x-death"] as Record<string, unknown>[];
  assert.equal(death?.count, 1);
  assert.equal(death?.reason, "rejected");
  assert.equal(death?.queue, q);
  assert.equal(death?.["original-expiration"], "60000");
  assert.deepEqual(death?.["routing-keys"], [q]);
});

test("queue TTL and per-message expiration dead-letter at the head, also without consumers", async () => {
  const { ch, q, dlq } = await withDlx({ "x-message-ttl": 150 });
  ch.sendToQueue(q, Buffer.from("queue-ttl"));
  ch.sendToQueue(q, Buffer.from("own-ttl"), { expiration: "10" });
  await ch.waitForConfirms();
  clock.advance(149);
  assert.equal((await ch.checkQueue(q)).messageCount, 2, "nothing expires early");
  assert.deepEqual(await bodies(ch, dlq), []);
  clock.advance(2); // the head's 150 ms have passed (the timer fires 1 ms after the due time)
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
  assert.deepEqual(await bodies(ch, dlq), ["queue-ttl", "own-ttl"]);
});

test("max-length drop-head dead-letters the oldest; reject-publish nacks", async () => {
  const a = await withDlx({ "x-max-length": 2 });
  for (const b of ["1", "2", "3"]) a.ch.sendToQueue(a.q, Buffer.from(b));
  await a.ch.waitForConfirms();
  assert.deepEqual(await bodies(a.ch, a.dlq), ["1"]);
  assert.deepEqual(await bodies(a.ch, a.q), ["2", "3"]);
  const r = await withDlx({ "x-max-length": 1, "x-overflow": "reject-publish" });
  const outcomes: string[] = [];
  for (const b of ["x", "y"]) {
    await new Promise<void>((resolve) =>
      r.ch.sendToQueue(r.q, Buffer.from(b), {}, (err) => {
        outcomes.push(err ? "nack" : "ack");
        resolve();
      }),
    );
  }
  assert.deepEqual(outcomes, ["ack", "nack"]);
  assert.deepEqual(await bodies(r.ch, r.dlq), [], "reject-publish does not dead-letter");
});

test("x-expires deletes an unused queue", async () => {
  const ch = await conn.createChannel();
  await ch.assertQueue("expiring-q", { durable: false, arguments: { "x-expires": 100 } });
  clock.advance(99);
  assert.equal((await ch.checkQueue("expiring-q")).messageCount, 0, "still there after 99 ms");
  clock.advance(1);
  const err = new Promise<{ code: number }>((resolve) => ch.once("error", resolve));
  ch.checkQueue("expiring-q").catch(() => undefined);
  assert.equal((await err).code, 404);
});

test("invalid arguments are refused with 406", async () => {
  const ch = await conn.createChannel();
  const err = new Promise<{ code: number }>((resolve) => ch.once("error", resolve));
  ch.assertQueue("bad-args", { arguments: { "x-message-ttl": -5 } }).catch(() => undefined);
  assert.equal((await err).code, 406);
});
