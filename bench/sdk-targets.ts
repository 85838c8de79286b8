// The systems bench/sdk.ts compares, each behind one small shape: publish a range of jobs (resolving once
// the broker holds them all) and run every delivered job through `onMessage`, acknowledging it after.
// Invariant: each target deletes on close() exactly what it declared (its queue, exchange or Redis keys).

import { type Bus, connect, retry } from "@spindle/sdk";
import amqplib from "amqplib";
import { Queue, Worker } from "bullmq";
import type { SdkBenchSpec, SystemName } from "./sdk-worker.ts";

/** The job: throws for a planned failure; anything else counts it as handled. */
export type OnMessage = (i: number, attempt: number) => void;

export interface BenchTarget {
  /** Publishes jobs lo..hi-1, calling `stamp(i)` as each is handed to the client; resolves once all are held. */
  publishRange(lo: number, hi: number, stamp: (i: number) => void): Promise<void>;
  close(): Promise<void>;
}

export interface TargetContext {
  readonly spec: SdkBenchSpec;
  /** embedded:// data directory (sdk-embedded only) */
  readonly dataDir: string;
  /** unique per run: the topic, queue or BullMQ queue name */
  readonly name: string;
  readonly pad: string;
  readonly onMessage: OnMessage;
}

const GROUP = "bench";

/** Runs `send(i)` for lo..hi-1 with at most `window` unresolved at once; resolves when all have. */
async function windowed(
  lo: number,
  hi: number,
  window: number,
  send: (i: number) => Promise<unknown>,
): Promise<void> {
  let outstanding = 0;
  let failed: unknown;
  let wake: (() => void) | undefined;
  const settle = () => {
    outstanding--;
    const w = wake;
    wake = undefined;
    w?.();
  };
  for (let i = lo; i < hi; i++) {
    while (outstanding >= window) await new Promise<void>((r) => (wake = r));
    if (failed !== undefined) throw failed;
    outstanding++;
    send(i).then(settle, (e) => {
      failed ??= e;
      settle();
    });
  }
  while (outstanding > 0) await new Promise<void>((r) => (wake = r));
  if (failed !== undefined) throw failed;
}

async function sdkTarget(ctx: TargetContext, bus: Bus, cleanup: () => Promise<void>): Promise<BenchTarget> {
  const { spec, pad, name } = ctx;
  const sub = await bus.subscribe<{ i: number }>(
    name,
    {
      group: GROUP,
      concurrency: spec.concurrency,
      // the planned failures: retried in process after 10 then 20 ms (the default policy waits seconds)
      ...(spec.failEvery > 0
        ? { retry: retry.exponential({ attempts: spec.failTimes + 1, initialMs: 10 }) }
        : {}),
    },
    (msg) => ctx.onMessage(msg.data.i, msg.attempt),
  );
  return {
    publishRange: (lo, hi, stamp) =>
      windowed(lo, hi, spec.window, (i) => {
        stamp(i);
        return bus.publish(name, { i, pad });
      }),
    close: async () => {
      await sub.close();
      await bus.close();
      await cleanup();
    },
  };
}

/** Deletes the exchange and group queue an SDK amqp:// run declared (names.ts: topic, `<topic>.<group>`). */
async function deleteAmqp(url: string, exchange: string, queue: string): Promise<void> {
  const conn = await amqplib.connect(url);
  const ch = await conn.createChannel();
  await ch.deleteQueue(queue);
  await ch.deleteExchange(exchange);
  await conn.close();
}

async function amqplibTarget(ctx: TargetContext): Promise<BenchTarget> {
  const { spec, pad, name } = ctx;
  const url = spec.amqpUrl as string;
  const conn = await amqplib.connect(url);
  const pub = await conn.createConfirmChannel();
  await pub.assertExchange(name, "fanout", { durable: true });
  await pub.assertQueue(name, { durable: true });
  await pub.bindQueue(name, name, "");
  const sub = await conn.createChannel();
  await sub.prefetch(spec.concurrency);
  await sub.consume(name, (m) => {
    if (m === null) return;
    const { i } = JSON.parse(m.content.toString("utf8")) as { i: number };
    Promise.resolve()
      .then(() => ctx.onMessage(i, m.fields.redelivered ? 2 : 1))
      .then(
        () => sub.ack(m),
        () => sub.nack(m, false, true),
      );
  });
  return {
    publishRange: (lo, hi, stamp) =>
      windowed(
        lo,
        hi,
        spec.window,
        (i) =>
          new Promise<void>((resolve, reject) => {
            stamp(i);
            const body = Buffer.from(JSON.stringify({ i, pad }));
            pub.publish(name, "", body, { persistent: true, contentType: "application/json" }, (err) =>
              err ? reject(err) : resolve(),
            );
          }),
      ),
    close: async () => {
      await sub.close();
      await pub.deleteQueue(name);
      await pub.deleteExchange(name);
      await pub.close();
      await conn.close();
    },
  };
}

async function bullmqTarget(ctx: TargetContext): Promise<BenchTarget> {
  const { spec, pad, name } = ctx;
  const connection = spec.redis ?? { host: "127.0.0.1", port: 6379 };
  const queue = new Queue(name, { connection });
  const worker = new Worker(
    name,
    async (job) => {
      ctx.onMessage((job.data as { i: number }).i, job.attemptsMade + 1);
    },
    { connection, concurrency: spec.concurrency },
  );
  await worker.waitUntilReady();
  const opts = { removeOnComplete: true, removeOnFail: true };
  return {
    publishRange: async (lo, hi, stamp) => {
      for (let b = lo; b < hi; b += spec.window) {
        const jobs = [];
        for (let i = b; i < Math.min(hi, b + spec.window); i++) {
          stamp(i);
          jobs.push({ name: "job", data: { i, pad }, opts });
        }
        await queue.addBulk(jobs);
      }
    },
    close: async () => {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    },
  };
}

export const targets: Record<SystemName, (ctx: TargetContext) => Promise<BenchTarget>> = {
  "sdk-embedded": async (ctx) => sdkTarget(ctx, await connect(`embedded://${ctx.dataDir}`), async () => {}),
  "sdk-amqp": async (ctx) => {
    const url = ctx.spec.amqpUrl as string;
    return sdkTarget(ctx, await connect(url), () => deleteAmqp(url, ctx.name, `${ctx.name}.${GROUP}`));
  },
  amqplib: amqplibTarget,
  bullmq: bullmqTarget,
};
