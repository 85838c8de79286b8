// Differential scenarios for TTL, max-length/overflow and dead-lettering with x-death.
// Invariant: x-death times are replaced by a marker, everything else is compared as the client sees it.

import type amqplib from "amqplib";
import { type Ctx, type Scenario, sleep } from "./harness.ts";

/** A message as seen by the client with x-death's time (a wall-clock value) masked. */
function dead(m: amqplib.GetMessage | false): unknown {
  if (m === false) return false;
  const h = { ...(m.properties.headers ?? {}) } as Record<string, unknown>;
  if (Array.isArray(h["x-death"])) {
    h["x-death"] = (h["x-death"] as Record<string, unknown>[]).map((d) => ({ ...d, time: typeof d.time }));
  }
  return {
    body: m.content.toString(),
    exchange: m.fields.exchange,
    routingKey: m.fields.routingKey,
    expiration: m.properties.expiration,
    headers: h,
  };
}

async function drainDead(ch: amqplib.Channel, q: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (;;) {
    const m = await ch.get(q, { noAck: true });
    if (m === false) return out;
    out.push(dead(m));
  }
}

async function setup(ctx: Ctx, args: Record<string, unknown>) {
  const ch = await (await ctx.connect()).createConfirmChannel();
  const dlx = ctx.name("dlx");
  await ch.assertExchange(dlx, "fanout", { durable: false });
  const dlq = (await ch.assertQueue("", { exclusive: true })).queue;
  await ch.bindQueue(dlq, dlx, "");
  const q = ctx.name("src");
  await ch.assertQueue(q, { durable: false, arguments: { "x-dead-letter-exchange": dlx, ...args } });
  const cleanup = async () => {
    await ch.deleteQueue(q);
    await ch.deleteExchange(dlx);
  };
  return { ch, q, dlq, cleanup };
}

export const DLX: Scenario[] = [
  {
    name: "dead-letter on reject and nack without requeue, x-death counts",
    async run(ctx: Ctx) {
      const { ch, q, dlq, cleanup } = await setup(ctx, {});
      ch.sendToQueue(q, Buffer.from("r1"), { headers: { mine: "kept" } });
      ch.sendToQueue(q, Buffer.from("n1"));
      await ch.waitForConfirms();
      const a = await ch.get(q);
      const b = await ch.get(q);
      if (a) ch.reject(a, false);
      if (b) ch.nack(b, false, false);
      await sleep(200);
      ctx.log("dead", await drainDead(ch, dlq));
      ctx.log("source left", (await ch.checkQueue(q)).messageCount);
      await cleanup();
    },
  },
  {
    name: "queue TTL expires into the DLX with routing-key override",
    async run(ctx: Ctx) {
      const { ch, q, dlq, cleanup } = await setup(ctx, {
        "x-message-ttl": 100,
        "x-dead-letter-routing-key": "expired-rk",
      });
      ch.sendToQueue(q, Buffer.from("t1"));
      ch.sendToQueue(q, Buffer.from("t2"));
      await ch.waitForConfirms();
      await sleep(600);
      ctx.log("source left", (await ch.checkQueue(q)).messageCount);
      ctx.log("dead", await drainDead(ch, dlq));
      await cleanup();
    },
  },
  {
    name: "per-message expiration, original-expiration in x-death",
    async run(ctx: Ctx) {
      const { ch, q, dlq, cleanup } = await setup(ctx, {});
      ch.sendToQueue(q, Buffer.from("short"), { expiration: "50" });
      ch.sendToQueue(q, Buffer.from("long"), { expiration: "60000" });
      await ch.waitForConfirms();
      await sleep(500);
      ctx.log("dead", await drainDead(ch, dlq));
      const left = await ch.get(q, { noAck: true });
      ctx.log("left", left && { body: left.content.toString(), expiration: left.properties.expiration });
      await cleanup();
    },
  },
  {
    name: "x-max-length drop-head dead-letters the oldest",
    async run(ctx: Ctx) {
      const { ch, q, dlq, cleanup } = await setup(ctx, { "x-max-length": 2 });
      for (const b of ["m1", "m2", "m3", "m4"]) ch.sendToQueue(q, Buffer.from(b));
      await ch.waitForConfirms();
      await sleep(200);
      ctx.log("count", (await ch.checkQueue(q)).messageCount);
      ctx.log("dead", await drainDead(ch, dlq));
      await cleanup();
    },
  },
  {
    name: "x-overflow reject-publish nacks the publisher",
    async run(ctx: Ctx) {
      const { ch, q, dlq, cleanup } = await setup(ctx, { "x-max-length": 1, "x-overflow": "reject-publish" });
      const results: string[] = [];
      for (const b of ["a", "b"]) {
        await new Promise<void>((resolve) =>
          ch.sendToQueue(q, Buffer.from(b), {}, (err) => {
            results.push(`${b}:${err ? "nack" : "ack"}`);
            resolve();
          }),
        );
      }
      ctx.log("confirms", results);
      ctx.log("count", (await ch.checkQueue(q)).messageCount);
      ctx.log("dead", await drainDead(ch, dlq));
      await cleanup();
    },
  },
  {
    name: "max-length-bytes",
    async run(ctx: Ctx) {
      const { ch, q, dlq, cleanup } = await setup(ctx, { "x-max-length-bytes": 10 });
      for (const b of ["12345", "67890", "abcde"]) ch.sendToQueue(q, Buffer.from(b));
      await ch.waitForConfirms();
      await sleep(200);
      ctx.log("count", (await ch.checkQueue(q)).messageCount);
      ctx.log("dead", await drainDead(ch, dlq));
      await cleanup();
    },
  },
  {
    name: "dead-lettered twice: x-death order and counts",
    async run(ctx: Ctx) {
      const { ch, q, dlq, cleanup } = await setup(ctx, {});
      ch.sendToQueue(q, Buffer.from("again"));
      await ch.waitForConfirms();
      const m = await ch.get(q);
      if (m) ch.reject(m, false);
      await sleep(100);
      const d = await ch.get(dlq);
      if (d) {
        ch.sendToQueue(q, d.content, { headers: d.properties.headers });
        ch.ack(d);
      }
      await ch.waitForConfirms();
      const m2 = await ch.get(q);
      if (m2) ch.reject(m2, false);
      await sleep(100);
      ctx.log("dead", await drainDead(ch, dlq));
      await cleanup();
    },
  },
  {
    name: "invalid queue arguments are 406",
    async run(ctx: Ctx) {
      const c = await ctx.connect();
      for (const args of [{ "x-message-ttl": -1 }, { "x-max-length": "ten" }, { "x-overflow": "nope" }]) {
        const ch = await c.createChannel();
        const err = new Promise<string>((resolve) =>
          ch.once("error", (e: { code: number }) => resolve(`code ${e.code}`)),
        );
        ch.assertQueue(ctx.name("badargs"), { durable: false, arguments: args }).catch(() => undefined);
        ctx.log(JSON.stringify(args), await err);
      }
    },
  },
];
