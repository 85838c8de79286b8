// What a differential scenario can do: connect, name things uniquely, record what the client observes.
// Invariant: recorded observations never contain run-specific names, so two brokers' logs compare equal.

import amqplib from "amqplib";

export interface Ctx {
  readonly url: string;
  /** a name unique to this run (cleaned up by the scenario or by being exclusive/auto-delete) */
  name(base: string): string;
  log(what: string, value?: unknown): void;
  connect(): Promise<amqplib.ChannelModel>;
}

export interface Scenario {
  readonly name: string;
  run(ctx: Ctx): Promise<void>;
}

export interface Run {
  readonly observations: string[];
  readonly error?: string;
}

export async function runScenario(url: string, runId: string, s: Scenario): Promise<Run> {
  const observations: string[] = [];
  const conns: amqplib.ChannelModel[] = [];
  const normalize = (text: string) =>
    text
      .replaceAll(runId, "<id>")
      .replace(/amq\.gen-[A-Za-z0-9_-]+/g, "<gen>")
      .replace(/amq\.ctag-[A-Za-z0-9_-]+/g, "<ctag>");
  const ctx: Ctx = {
    url,
    name: (base) => `${base}-${runId}`,
    log: (what, value) =>
      observations.push(normalize(value === undefined ? what : `${what} ${JSON.stringify(value)}`)),
    connect: async () => {
      const c = await amqplib.connect(url);
      c.on("error", () => undefined);
      conns.push(c);
      return c;
    },
  };
  let error: string | undefined;
  try {
    await withTimeout(s.run(ctx), 15_000, s.name);
  } catch (e) {
    error = normalize(e instanceof Error ? e.message : String(e));
  }
  for (const c of conns) await c.close().catch(() => undefined);
  return error === undefined ? { observations } : { observations, error };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]);
}

/** Runs `fn` and records the channel error it causes (code, class, method), or that there was none. */
export async function channelError(ctx: Ctx, ch: amqplib.Channel, fn: () => unknown): Promise<void> {
  const err = new Promise<string>((resolve) => {
    ch.once("error", (e: { code?: number; classId?: number; methodId?: number }) =>
      resolve(`channel error ${e.code} on ${e.classId}.${e.methodId}`),
    );
    setTimeout(() => resolve("no channel error"), 3000);
  });
  try {
    const r = fn();
    if (r instanceof Promise) r.catch(() => undefined);
  } catch {
    // amqplib throws synchronously on a closed channel; the error event carries the code
  }
  ctx.log(await err);
}

/** Records the connection error (a hard error) that `fn` causes. */
export async function connectionError(ctx: Ctx, c: amqplib.ChannelModel, fn: () => unknown): Promise<void> {
  const err = new Promise<string>((resolve) => {
    c.once("error", (e: { code?: number }) => resolve(`connection error ${e.code}`));
    c.once("close", () => setTimeout(() => resolve("connection closed without error"), 100));
    setTimeout(() => resolve("no connection error"), 3000);
  });
  try {
    const r = fn();
    if (r instanceof Promise) r.catch(() => undefined);
  } catch {
    // see channelError
  }
  ctx.log(await err);
}

export function describeMessage(m: amqplib.Message): Record<string, unknown> {
  const p = m.properties;
  const props = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
  return {
    body: m.content.toString(),
    exchange: m.fields.exchange,
    routingKey: m.fields.routingKey,
    redelivered: (m.fields as { redelivered?: boolean }).redelivered,
    props,
  };
}

/** Waits for `n` deliveries on a new consumer (or 1.5 s), returning what arrived. */
export async function consumeN(
  ch: amqplib.Channel,
  queue: string,
  n: number,
  opts: amqplib.Options.Consume = {},
): Promise<amqplib.ConsumeMessage[]> {
  const got: amqplib.ConsumeMessage[] = [];
  let done: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => {
    done = resolve;
  });
  await ch.consume(
    queue,
    (m) => {
      if (m === null) return;
      got.push(m);
      if (got.length >= n) done();
    },
    opts,
  );
  await Promise.race([enough, new Promise((r) => setTimeout(r, 1500))]);
  return got;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
