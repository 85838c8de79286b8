// Differential scenarios for the core of AMQP 0-9-1: declares and their errors, publish/consume/ack,
// requeue order, get, prefetch, confirms, returns, properties.
// Invariant: each scenario cleans up what it names, or uses exclusive/auto-delete entities.

import type amqplib from "amqplib";
import {
  type Ctx,
  channelError,
  connectionError,
  consumeN,
  describeMessage,
  type Scenario,
  sleep,
} from "./harness.ts";

const bodies = (ms: amqplib.Message[]) => ms.map((m) => m.content.toString());

export const CORE: Scenario[] = [
  {
    name: "declare-ok counts and redeclare",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createChannel();
      const q = ctx.name("decl");
      ctx.log("declare", await ch.assertQueue(q, { durable: false }));
      ch.sendToQueue(q, Buffer.from("a"));
      ch.sendToQueue(q, Buffer.from("b"));
      await sleep(100);
      ctx.log("redeclare", await ch.assertQueue(q, { durable: false }));
      ctx.log("passive", await ch.checkQueue(q));
      ctx.log("purge", await ch.purgeQueue(q));
      ctx.log("delete", await ch.deleteQueue(q));
    },
  },
  {
    name: "channel errors: 404, 406, 403, unknown delivery tag",
    async run(ctx: Ctx) {
      const c = await ctx.connect();
      const q = ctx.name("err");
      let ch = await c.createChannel();
      await channelError(ctx, ch, () => ch.checkQueue(ctx.name("missing")));
      ch = await c.createChannel();
      await channelError(ctx, ch, () => ch.checkExchange(ctx.name("missing")));
      ch = await c.createChannel();
      await ch.assertQueue(q, { durable: false, autoDelete: false });
      await channelError(ctx, ch, () => ch.assertQueue(q, { durable: true }));
      ch = await c.createChannel();
      await channelError(ctx, ch, () =>
        ch.assertQueue(q, { durable: false, arguments: { "x-max-length": 5 } }),
      );
      ch = await c.createChannel();
      await channelError(ctx, ch, () => ch.assertQueue("amq.reserved"));
      ch = await c.createChannel();
      await channelError(ctx, ch, () => ch.assertExchange("amq.reserved", "direct"));
      ch = await c.createChannel();
      await channelError(ctx, ch, () => ch.bindQueue(q, "", "x"));
      ch = await c.createChannel();
      await channelError(ctx, ch, () => ch.bindQueue(q, ctx.name("nox"), "x"));
      ch = await c.createChannel();
      await channelError(ctx, ch, () => ch.publish(ctx.name("nox"), "x", Buffer.from("x")));
      ch = await c.createChannel();
      await channelError(ctx, ch, () =>
        ch.ack({ fields: { deliveryTag: 42 } } as unknown as amqplib.Message),
      );
      ch = await c.createChannel();
      await channelError(ctx, ch, () => ch.sendToQueue(q, Buffer.from("x"), { expiration: "-5" }));
      ch = await c.createChannel();
      await channelError(ctx, ch, () => ch.deleteQueue(q, { ifEmpty: true }));
      ch = await c.createChannel();
      ch.sendToQueue(q, Buffer.from("x"));
      await channelError(ctx, ch, () => ch.deleteQueue(q, { ifEmpty: true }));
      ch = await c.createChannel();
      await ch.deleteQueue(q);
    },
  },
  {
    name: "connection errors: unknown exchange type, reused consumer tag",
    async run(ctx: Ctx) {
      let c = await ctx.connect();
      let ch = await c.createChannel();
      await connectionError(ctx, c, () => ch.assertExchange(ctx.name("bad-type"), "no-such-type"));
      c = await ctx.connect();
      ch = await c.createChannel();
      const { queue } = await ch.assertQueue("", { exclusive: true });
      await ch.consume(queue, () => undefined, { consumerTag: "same" });
      await connectionError(ctx, c, () => ch.consume(queue, () => undefined, { consumerTag: "same" }));
    },
  },
  {
    name: "exclusive queue from another connection is 405",
    async run(ctx: Ctx) {
      const a = await (await ctx.connect()).createChannel();
      const q = ctx.name("excl");
      await a.assertQueue(q, { exclusive: true });
      const b = await (await ctx.connect()).createChannel();
      await channelError(ctx, b, () => b.assertQueue(q, { exclusive: true }));
      const b2 = await (await ctx.connect()).createChannel();
      await channelError(ctx, b2, () => b2.get(q));
    },
  },
  {
    name: "consume order, nack requeue order, redelivered",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createChannel();
      const { queue } = await ch.assertQueue("", { exclusive: true });
      for (const b of ["1", "2", "3", "4", "5"]) ch.sendToQueue(queue, Buffer.from(b));
      const first = await consumeN(ch, queue, 5, { consumerTag: "c1" });
      ctx.log("first", first.map(describeMessage));
      await ch.cancel("c1");
      ch.nack(first[3] as amqplib.Message, false, true);
      ch.nack(first[1] as amqplib.Message, false, true);
      ch.ack(first[0] as amqplib.Message);
      ch.reject(first[2] as amqplib.Message, false);
      ch.ack(first[4] as amqplib.Message);
      const again = await consumeN(ch, queue, 2, { consumerTag: "c2" });
      ctx.log("again", again.map(describeMessage));
      ch.ack(again[1] as amqplib.Message, true);
      ctx.log("left", await ch.checkQueue(queue));
    },
  },
  {
    name: "basic.get message counts and get-empty",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createChannel();
      const { queue } = await ch.assertQueue("", { exclusive: true });
      ctx.log("empty", await ch.get(queue));
      for (const b of ["a", "b", "c"]) ch.sendToQueue(queue, Buffer.from(b));
      const m1 = await ch.get(queue);
      ctx.log("get", m1 && { ...describeMessage(m1), count: m1.fields.messageCount });
      const m2 = await ch.get(queue, { noAck: true });
      ctx.log("get", m2 && { ...describeMessage(m2), count: m2.fields.messageCount });
      if (m1) ch.nack(m1, false, true);
      const m3 = await ch.get(queue);
      ctx.log("get", m3 && { ...describeMessage(m3), count: m3.fields.messageCount });
    },
  },
  {
    name: "prefetch per consumer",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createChannel();
      const { queue } = await ch.assertQueue("", { exclusive: true });
      for (let i = 0; i < 8; i++) ch.sendToQueue(queue, Buffer.from(String(i)));
      await ch.prefetch(2);
      const got = await consumeN(ch, queue, 8);
      ctx.log("with prefetch 2", bodies(got));
      ch.ack(got[1] as amqplib.Message, true);
      await sleep(300);
      ctx.log("after ack multiple", bodies(got));
    },
  },
  {
    name: "confirms, mandatory return before ack",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createConfirmChannel();
      const events: string[] = [];
      ch.on("return", (m: amqplib.Message) => events.push(`return ${m.fields.routingKey} ${m.content}`));
      const { queue } = await ch.assertQueue("", { exclusive: true });
      const pub = (rk: string, mandatory: boolean) =>
        new Promise<void>((resolve) =>
          ch.publish("", rk, Buffer.from(rk.slice(0, 5)), { mandatory }, (err) => {
            events.push(err ? `nack ${rk.slice(0, 5)}` : `ack ${rk.slice(0, 5)}`);
            resolve();
          }),
        );
      await Promise.all([pub(queue, true), pub(ctx.name("nowhere"), true), pub(ctx.name("nowhere"), false)]);
      ctx.log("events", events);
    },
  },
  {
    name: "exclusive consumers, unknown consumer tag, global qos",
    async run(ctx: Ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = ctx.name("exclcons");
      await ch.assertQueue(q, { durable: false });
      await ch.consume(q, () => undefined, { exclusive: true, consumerTag: "only" });
      const other = await c.createChannel();
      await channelError(ctx, other, () => other.consume(q, () => undefined));
      ctx.log("cancel unknown", await ch.cancel("never-was"));
      await ch.cancel("only");
      const plain = await c.createChannel();
      await plain.consume(q, () => undefined, { consumerTag: "first" });
      const third = await c.createChannel();
      await channelError(ctx, third, () => third.consume(q, () => undefined, { exclusive: true }));
      const g = await c.createChannel();
      const { queue } = await g.assertQueue("", { exclusive: true });
      for (let i = 0; i < 6; i++) g.sendToQueue(queue, Buffer.from(String(i)));
      await g.prefetch(3, true);
      const got = [
        ...(await consumeN(g, queue, 6, { consumerTag: "g1" })),
        ...(await consumeN(g, queue, 6, { consumerTag: "g2" })),
      ];
      ctx.log("global prefetch 3 over two consumers", got.length);
      await plain.deleteQueue(q);
    },
  },
  {
    name: "properties and header types round-trip",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createChannel();
      const { queue } = await ch.assertQueue("", { exclusive: true });
      ch.sendToQueue(queue, Buffer.from("props"), {
        contentType: "application/json",
        contentEncoding: "utf-8",
        headers: {
          s: "str",
          i: 42,
          neg: -7,
          f: 1.5,
          b: true,
          n: null,
          arr: [1, "two"],
          t: { nested: "yes" },
        },
        deliveryMode: 2,
        priority: 3,
        correlationId: "corr",
        replyTo: "reply",
        expiration: "60000",
        messageId: "mid",
        timestamp: 1700000000,
        type: "kind",
        userId: "guest",
        appId: "app",
      });
      const m = await ch.get(queue, { noAck: true });
      ctx.log("message", m && describeMessage(m));
    },
  },
];
