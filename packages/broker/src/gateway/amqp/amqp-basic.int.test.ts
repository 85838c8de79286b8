// amqplib against the AMQP gateway on a free port: connection, declares and their errors, publish/consume/ack.
// Invariant: every test uses a real socket and a real client, and fails if the broker answers differently.

import assert from "node:assert/strict";
import { connect as tcpConnect } from "node:net";
import { after, before, describe, test } from "node:test";
import amqplib from "amqplib";
import { startTestBroker, type TestBroker } from "./test-broker.ts";

let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
});
after(() => broker.close());

/** Resolves with the channel's close error (a soft error), or fails after 5 s. */
function channelError(ch: amqplib.Channel): Promise<{ code: number; message: string }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("no channel error")), 5000);
    ch.once("error", (e: { code: number; message: string }) => {
      clearTimeout(t);
      resolve(e);
    });
  });
}

function nextMessage(ch: amqplib.Channel, queue: string, opts: amqplib.Options.Consume = {}) {
  return new Promise<amqplib.ConsumeMessage>((resolve, reject) => {
    ch.consume(queue, (m) => (m ? resolve(m) : reject(new Error("cancelled"))), opts).catch(reject);
  });
}

describe("connection", () => {
  test("handshake and close", async () => {
    const c = await amqplib.connect(broker.url);
    const props = (c as unknown as { connection: { serverProperties: Record<string, unknown> } }).connection
      .serverProperties;
    assert.equal(props.product, "Spindle");
    const caps = props.capabilities as Record<string, unknown>;
    for (const k of ["publisher_confirms", "basic.nack", "consumer_cancel_notify", "connection.blocked"]) {
      assert.equal(caps[k], true, k);
    }
    await c.close();
  });

  test("wrong password is refused with 403", async () => {
    await assert.rejects(amqplib.connect(`amqp://guest:nope@127.0.0.1:${broker.port}`), /403|ACCESS_REFUSED/);
  });

  test("a non-AMQP header gets the 0-9-1 header back", async () => {
    const reply = await new Promise<Buffer>((resolve) => {
      const s = tcpConnect(broker.port, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\n\r\n"));
      const parts: Buffer[] = [];
      s.on("data", (d) => parts.push(d));
      s.on("close", () => resolve(Buffer.concat(parts)));
    });
    assert.deepEqual([...reply], [0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
  });

  test("a channel error does not affect another channel", async () => {
    const c = await amqplib.connect(broker.url);
    const bad = await c.createChannel();
    const good = await c.createChannel();
    const err = channelError(bad);
    bad.checkQueue("no-such-queue-xyz").catch(() => undefined);
    assert.equal((await err).code, 404);
    const q = await good.assertQueue("", { exclusive: true });
    assert.match(q.queue, /^amq\.gen-/);
    await c.close();
  });
});

describe("declare errors", () => {
  test("406 on redeclare with other properties, 404 on passive missing, 403 on amq. names", async () => {
    const c = await amqplib.connect(broker.url);
    let ch = await c.createChannel();
    await ch.assertQueue("decl-q", { durable: false });
    let err = channelError(ch);
    ch.assertQueue("decl-q", { durable: true }).catch(() => undefined);
    assert.equal((await err).code, 406);
    ch = await c.createChannel();
    err = channelError(ch);
    ch.checkExchange("no-such-exchange").catch(() => undefined);
    assert.equal((await err).code, 404);
    ch = await c.createChannel();
    err = channelError(ch);
    ch.assertQueue("amq.mine").catch(() => undefined);
    assert.equal((await err).code, 403);
    ch = await c.createChannel();
    await ch.assertExchange("decl-x", "direct", { durable: false });
    err = channelError(ch);
    ch.assertExchange("decl-x", "fanout", { durable: false }).catch(() => undefined);
    assert.equal((await err).code, 406);
    ch = await c.createChannel();
    await ch.deleteQueue("decl-q");
    await ch.deleteExchange("decl-x");
    await c.close();
  });

  test("405 when another connection uses an exclusive queue", async () => {
    const a = await amqplib.connect(broker.url);
    const b = await amqplib.connect(broker.url);
    const cha = await a.createChannel();
    const q = await cha.assertQueue("", { exclusive: true });
    const chb = await b.createChannel();
    const err = channelError(chb);
    chb.consume(q.queue, () => undefined).catch(() => undefined);
    assert.equal((await err).code, 405);
    await a.close();
    const chc = await b.createChannel();
    const gone = channelError(chc);
    chc.checkQueue(q.queue).catch(() => undefined);
    assert.equal((await gone).code, 404, "exclusive queue is deleted with its connection");
    await b.close();
  });

  test("publish to a missing exchange closes the channel with 404", async () => {
    const c = await amqplib.connect(broker.url);
    const ch = await c.createChannel();
    const err = channelError(ch);
    ch.publish("missing-exchange", "k", Buffer.from("x"));
    assert.equal((await err).code, 404);
    await c.close();
  });
});

describe("publish and consume", () => {
  test("consume, ack, and requeue with redelivered", async () => {
    const c = await amqplib.connect(broker.url);
    const ch = await c.createChannel();
    const { queue } = await ch.assertQueue("", { exclusive: true });
    ch.sendToQueue(queue, Buffer.from("one"), { messageId: "m1", contentType: "text/plain" });
    const first = await nextMessage(ch, queue);
    assert.equal(first.content.toString(), "one");
    assert.equal(first.properties.messageId, "m1");
    assert.equal(first.properties.contentType, "text/plain");
    assert.equal(first.fields.redelivered, false);
    await ch.cancel(first.fields.consumerTag);
    ch.nack(first, false, true);
    const again = await nextMessage(ch, queue);
    assert.equal(again.content.toString(), "one");
    assert.equal(again.fields.redelivered, true);
    ch.ack(again);
    const q = await ch.checkQueue(queue);
    assert.equal(q.messageCount, 0);
    await c.close();
  });

  test("unacked messages are requeued when the channel closes", async () => {
    const c = await amqplib.connect(broker.url);
    const ch1 = await c.createChannel();
    const { queue } = await ch1.assertQueue("", { exclusive: true });
    ch1.sendToQueue(queue, Buffer.from("a"));
    await nextMessage(ch1, queue);
    await ch1.close();
    const ch2 = await c.createChannel();
    const m = await nextMessage(ch2, queue);
    assert.equal(m.fields.redelivered, true);
    await c.close();
  });

  test("prefetch limits unacked deliveries per consumer", async () => {
    const c = await amqplib.connect(broker.url);
    const ch = await c.createChannel();
    const { queue } = await ch.assertQueue("", { exclusive: true });
    for (let i = 0; i < 10; i++) ch.sendToQueue(queue, Buffer.from(String(i)));
    await ch.prefetch(3);
    const got: amqplib.ConsumeMessage[] = [];
    await ch.consume(queue, (m) => m && got.push(m));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(got.length, 3);
    ch.ack(got[2] as amqplib.ConsumeMessage, true);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(got.length, 6);
    assert.deepEqual(
      got.map((m) => m.content.toString()),
      ["0", "1", "2", "3", "4", "5"],
    );
    await c.close();
  });

  test("basic.get, get-empty, and an unknown delivery tag is 406", async () => {
    const c = await amqplib.connect(broker.url);
    const ch = await c.createChannel();
    const { queue } = await ch.assertQueue("", { exclusive: true });
    assert.equal(await ch.get(queue), false);
    ch.sendToQueue(queue, Buffer.from("g1"));
    ch.sendToQueue(queue, Buffer.from("g2"));
    const m = await ch.get(queue);
    assert.ok(m);
    assert.equal(m.content.toString(), "g1");
    assert.equal(m.fields.messageCount, 1);
    ch.ack(m);
    const err = channelError(ch);
    ch.ack({ ...m, fields: { ...m.fields, deliveryTag: 999 } });
    assert.equal((await err).code, 406);
    await c.close();
  });

  test("large bodies are split into frames and reassembled", async () => {
    const c = await amqplib.connect(broker.url);
    const ch = await c.createChannel();
    const { queue } = await ch.assertQueue("", { exclusive: true });
    const body = Buffer.alloc(1024 * 1024 + 7, 0x5a);
    ch.sendToQueue(queue, body);
    const m = await nextMessage(ch, queue, { noAck: true });
    assert.equal(m.content.length, body.length);
    assert.ok(m.content.equals(body));
    await c.close();
  });

  test("a message above 16 MiB closes the channel with 406, the connection stays up", async () => {
    const c = await amqplib.connect(broker.url);
    const ch = await c.createChannel();
    const { queue } = await ch.assertQueue("", { exclusive: true });
    const err = channelError(ch);
    ch.sendToQueue(queue, Buffer.alloc(16 * 1024 * 1024 + 1));
    assert.equal((await err).code, 406);
    const again = await c.createChannel();
    assert.equal((await again.checkQueue(queue)).messageCount, 0);
    await c.close();
  });
});
