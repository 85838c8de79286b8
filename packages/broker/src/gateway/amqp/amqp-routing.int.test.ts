// amqplib against the AMQP gateway: exchange types, exchange-to-exchange and alternate exchanges,
// confirms, mandatory returns, queue deletion cancelling consumers, auto-delete, purge.
// Invariant: every scenario runs on fresh, uniquely named entities over a real socket.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import amqplib from "amqplib";
import { startTestBroker, type TestBroker } from "./test-broker.ts";

let broker: TestBroker;
let conn: amqplib.ChannelModel;
before(async () => {
  broker = await startTestBroker();
  conn = await amqplib.connect(broker.url);
});
after(async () => {
  await conn.close();
  await broker.close();
});

async function tempQueue(ch: amqplib.Channel): Promise<string> {
  return (await ch.assertQueue("", { exclusive: true })).queue;
}

async function drainQueue(ch: amqplib.Channel, queue: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const m = await ch.get(queue, { noAck: true });
    if (m === false) return out;
    out.push(m.content.toString());
  }
}

describe("exchange types", () => {
  test("topic: * is one word, # is zero or more", async () => {
    const ch = await conn.createChannel();
    await ch.assertExchange("rt-topic", "topic", { autoDelete: false, durable: false });
    const star = await tempQueue(ch);
    const hash = await tempQueue(ch);
    await ch.bindQueue(star, "rt-topic", "a.*.c");
    await ch.bindQueue(hash, "rt-topic", "a.#");
    for (const k of ["a.b.c", "a", "a.b.b.c", "a.x.c", "b.b.c"]) ch.publish("rt-topic", k, Buffer.from(k));
    assert.deepEqual(await drainQueue(ch, star), ["a.b.c", "a.x.c"]);
    assert.deepEqual(await drainQueue(ch, hash), ["a.b.c", "a", "a.b.b.c", "a.x.c"]);
    await ch.deleteExchange("rt-topic");
  });

  test("fanout ignores the routing key; direct matches it exactly", async () => {
    const ch = await conn.createChannel();
    const f1 = await tempQueue(ch);
    const f2 = await tempQueue(ch);
    await ch.bindQueue(f1, "amq.fanout", "");
    await ch.bindQueue(f2, "amq.fanout", "whatever");
    ch.publish("amq.fanout", "k", Buffer.from("fan"));
    const d = await tempQueue(ch);
    await ch.bindQueue(d, "amq.direct", "exact");
    ch.publish("amq.direct", "exact", Buffer.from("yes"));
    ch.publish("amq.direct", "exact.not", Buffer.from("no"));
    assert.deepEqual(await drainQueue(ch, f1), ["fan"]);
    assert.deepEqual(await drainQueue(ch, f2), ["fan"]);
    assert.deepEqual(await drainQueue(ch, d), ["yes"]);
  });

  test("headers: x-match all and any", async () => {
    const ch = await conn.createChannel();
    const all = await tempQueue(ch);
    const any = await tempQueue(ch);
    await ch.bindQueue(all, "amq.headers", "", { "x-match": "all", a: 1, b: "two" });
    await ch.bindQueue(any, "amq.headers", "", { "x-match": "any", a: 1, b: "two" });
    ch.publish("amq.headers", "", Buffer.from("both"), { headers: { a: 1, b: "two" } });
    ch.publish("amq.headers", "", Buffer.from("one"), { headers: { a: 1 } });
    ch.publish("amq.headers", "", Buffer.from("none"), { headers: { c: 1 } });
    assert.deepEqual(await drainQueue(ch, all), ["both"]);
    assert.deepEqual(await drainQueue(ch, any), ["both", "one"]);
  });

  test("exchange-to-exchange bindings and alternate exchanges", async () => {
    const ch = await conn.createChannel();
    await ch.assertExchange("rt-ae", "fanout", { durable: false });
    await ch.assertExchange("rt-main", "direct", { durable: false, alternateExchange: "rt-ae" });
    await ch.assertExchange("rt-down", "fanout", { durable: false });
    await ch.bindExchange("rt-down", "rt-main", "k");
    const viaE2e = await tempQueue(ch);
    const viaAe = await tempQueue(ch);
    await ch.bindQueue(viaE2e, "rt-down", "");
    await ch.bindQueue(viaAe, "rt-ae", "");
    ch.publish("rt-main", "k", Buffer.from("routed"));
    ch.publish("rt-main", "other", Buffer.from("unrouted"));
    assert.deepEqual(await drainQueue(ch, viaE2e), ["routed"]);
    assert.deepEqual(await drainQueue(ch, viaAe), ["unrouted"]);
    for (const x of ["rt-main", "rt-down", "rt-ae"]) await ch.deleteExchange(x);
  });
});

describe("confirms and returns", () => {
  test("mandatory unroutable message is returned, then confirmed", async () => {
    const ch = await conn.createConfirmChannel();
    const events: string[] = [];
    ch.on("return", (m: amqplib.Message) => events.push(`return:${m.fields.routingKey}:${m.content}`));
    await new Promise<void>((resolve, reject) =>
      ch.publish("amq.direct", "nobody-home", Buffer.from("r"), { mandatory: true }, (err) => {
        if (err) reject(err);
        events.push("ack");
        resolve();
      }),
    );
    assert.deepEqual(events, ["return:nobody-home:r", "ack"]);
  });

  test("every publish is confirmed, in order", async () => {
    const ch = await conn.createConfirmChannel();
    const q = (await ch.assertQueue("", { exclusive: true, durable: true })).queue;
    const acked: number[] = [];
    const all = Array.from(
      { length: 200 },
      (_, i) =>
        new Promise<void>((resolve, reject) =>
          ch.sendToQueue(q, Buffer.from(String(i)), { persistent: true }, (err) => {
            if (err) reject(err);
            acked.push(i);
            resolve();
          }),
        ),
    );
    await Promise.all(all);
    assert.deepEqual(
      acked,
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.equal((await ch.checkQueue(q)).messageCount, 200);
  });
});

describe("queue lifecycle", () => {
  test("deleting a queue cancels its consumers (basic.cancel from the server)", async () => {
    const ch = await conn.createChannel();
    await ch.assertQueue("rt-doomed", { durable: false });
    const cancelled = new Promise<null>((resolve) => {
      ch.consume("rt-doomed", (m) => m === null && resolve(null));
    });
    const other = await conn.createChannel();
    const ok = await other.deleteQueue("rt-doomed");
    assert.equal(ok.messageCount, 0);
    assert.equal(await cancelled, null);
  });

  test("auto-delete queue goes when its last consumer cancels; purge empties", async () => {
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue("rt-auto", { autoDelete: true, durable: false });
    ch.sendToQueue(queue, Buffer.from("1"));
    ch.sendToQueue(queue, Buffer.from("2"));
    assert.equal((await ch.purgeQueue(queue)).messageCount, 2);
    const { consumerTag } = await ch.consume(queue, () => undefined);
    await ch.cancel(consumerTag);
    const probe = await conn.createChannel();
    const err = new Promise<{ code: number }>((resolve) => probe.once("error", resolve));
    probe.checkQueue(queue).catch(() => undefined);
    assert.equal((await err).code, 404);
  });

  test("queue.delete if-empty refuses a non-empty queue with 406", async () => {
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue("rt-ifempty", { durable: false });
    ch.sendToQueue(queue, Buffer.from("x"));
    await ch.checkQueue(queue);
    const err = new Promise<{ code: number }>((resolve) => ch.once("error", resolve));
    ch.deleteQueue(queue, { ifEmpty: true }).catch(() => undefined);
    assert.equal((await err).code, 406);
    const ch2 = await conn.createChannel();
    assert.equal((await ch2.deleteQueue(queue)).messageCount, 1);
  });
});
