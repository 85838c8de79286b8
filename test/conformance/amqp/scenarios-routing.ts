// Differential scenarios for routing and lifecycle: exchange types, e2e bindings, alternate exchanges,
// server-sent cancel, auto-delete, requeue on channel close, recover.
// Invariant: each scenario cleans up what it names, or uses exclusive/auto-delete entities.

import type amqplib from "amqplib";
import { type Ctx, channelError, consumeN, type Scenario, sleep } from "./harness.ts";

async function drain(ch: amqplib.Channel, queue: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const m = await ch.get(queue, { noAck: true });
    if (m === false) return out;
    out.push(`${m.fields.routingKey}:${m.content}`);
  }
}

export const ROUTING: Scenario[] = [
  {
    name: "topic patterns",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createChannel();
      const x = ctx.name("topic");
      await ch.assertExchange(x, "topic", { durable: false });
      const patterns = ["a.*", "a.#", "#", "*.b.#", "#.c", "a.*.c", "*"];
      const qs: string[] = [];
      for (const p of patterns) {
        const { queue } = await ch.assertQueue("", { exclusive: true });
        await ch.bindQueue(queue, x, p);
        qs.push(queue);
      }
      for (const k of ["a", "a.b", "a.b.c", "x.b", "c", "a.x.y.c", "", "b.b.b"])
        ch.publish(x, k, Buffer.from("m"));
      for (const [i, q] of qs.entries()) ctx.log(patterns[i] as string, await drain(ch, q));
      await ch.deleteExchange(x);
    },
  },
  {
    name: "headers exchange x-match variants",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createChannel();
      const x = ctx.name("hdr");
      await ch.assertExchange(x, "headers", { durable: false });
      const binds: Record<string, unknown>[] = [
        { "x-match": "all", a: 1, b: "x" },
        { "x-match": "any", a: 1, b: "x" },
        { a: 1 },
        { "x-match": "all" },
      ];
      const qs: string[] = [];
      for (const args of binds) {
        const { queue } = await ch.assertQueue("", { exclusive: true });
        await ch.bindQueue(queue, x, "", args);
        qs.push(queue);
      }
      const msgs: [string, Record<string, unknown>][] = [
        ["both", { a: 1, b: "x" }],
        ["a-only", { a: 1 }],
        ["b-wrong", { a: 1, b: "y" }],
        ["none", {}],
      ];
      for (const [body, headers] of msgs) ch.publish(x, body, Buffer.from(body), { headers });
      for (const [i, q] of qs.entries()) ctx.log(JSON.stringify(binds[i]), await drain(ch, q));
      await ch.deleteExchange(x);
    },
  },
  {
    name: "exchange-to-exchange and alternate exchange",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createChannel();
      const [src, dst, ae] = [ctx.name("e2e-src"), ctx.name("e2e-dst"), ctx.name("e2e-ae")];
      await ch.assertExchange(ae, "fanout", { durable: false });
      await ch.assertExchange(src, "direct", { durable: false, alternateExchange: ae });
      await ch.assertExchange(dst, "topic", { durable: false });
      await ch.bindExchange(dst, src, "k1");
      const q1 = (await ch.assertQueue("", { exclusive: true })).queue;
      const q2 = (await ch.assertQueue("", { exclusive: true })).queue;
      await ch.bindQueue(q1, dst, "#");
      await ch.bindQueue(q2, ae, "");
      for (const k of ["k1", "k2"]) ch.publish(src, k, Buffer.from(k));
      ctx.log("via e2e", await drain(ch, q1));
      ctx.log("via ae", await drain(ch, q2));
      await ch.unbindExchange(dst, src, "k1");
      ch.publish(src, "k1", Buffer.from("after-unbind"));
      ctx.log("via ae after unbind", await drain(ch, q2));
      for (const e of [src, dst, ae]) await ch.deleteExchange(e);
    },
  },
  {
    name: "exchange delete if-unused and internal exchange",
    async run(ctx: Ctx) {
      const c = await ctx.connect();
      let ch = await c.createChannel();
      const x = ctx.name("inuse");
      await ch.assertExchange(x, "fanout", { durable: false });
      const { queue } = await ch.assertQueue("", { exclusive: true });
      await ch.bindQueue(queue, x, "");
      await channelError(ctx, ch, () => ch.deleteExchange(x, { ifUnused: true }));
      ch = await c.createChannel();
      await ch.deleteExchange(x);
      const internal = ctx.name("internal");
      await ch.assertExchange(internal, "fanout", { durable: false, internal: true });
      await channelError(ctx, ch, () => ch.publish(internal, "", Buffer.from("x")));
      ch = await c.createChannel();
      await ch.deleteExchange(internal);
      ctx.log("delete missing exchange", await ch.deleteExchange(ctx.name("never")));
      ctx.log("delete missing queue", await ch.deleteQueue(ctx.name("never")));
    },
  },
  {
    name: "queue delete cancels consumers; auto-delete queue",
    async run(ctx: Ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const q = ctx.name("doomed");
      await ch.assertQueue(q, { durable: false });
      const events: string[] = [];
      await ch.consume(q, (m) => events.push(m === null ? "cancelled" : "message"), { consumerTag: "t1" });
      const other = await c.createChannel();
      ctx.log("delete", await other.deleteQueue(q));
      await sleep(200);
      ctx.log("events", events);
      const auto = ctx.name("auto");
      await ch.assertQueue(auto, { autoDelete: true, durable: false });
      await ch.consume(auto, () => undefined, { consumerTag: "t2" });
      await ch.cancel("t2");
      await sleep(100);
      const probe = await c.createChannel();
      await channelError(ctx, probe, () => probe.checkQueue(auto));
    },
  },
  {
    name: "channel close requeues unacked; recover redelivers",
    async run(ctx: Ctx) {
      const c = await ctx.connect();
      const ch1 = await c.createChannel();
      const { queue } = await ch1.assertQueue("", { exclusive: true });
      for (const b of ["x", "y", "z"]) ch1.sendToQueue(queue, Buffer.from(b));
      const got = await consumeN(ch1, queue, 3);
      ch1.ack(got[1] as amqplib.Message);
      await ch1.close();
      const ch2 = await c.createChannel();
      const again = await consumeN(ch2, queue, 2, { consumerTag: "r1" });
      ctx.log(
        "after close",
        again.map((m) => `${m.content}:${m.fields.redelivered}`),
      );
      await ch2.recover();
      await sleep(200);
      ctx.log("deliveries after recover", again.length);
    },
  },
];
