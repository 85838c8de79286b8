// bench:patterns, part 1: the PostgreSQL outbox relay against plain bus.publish of the same messages on the
// same bus. Invariant: every pass publishes `count` fresh messages (ids unique across the run) and leaves
// its outbox table empty; delivery is checked after the passes by draining one group.

import { performance } from "node:perf_hooks";
import type { Bus, PostgresOutbox } from "@spindle/sdk";
import type { Pool } from "pg";

export interface OutboxPass {
  readonly kind: "plain" | "relay";
  /** publishes in flight (plain) or rows per claimed batch (relay) */
  readonly width: number;
  readonly count: number;
  /** first publish → last confirmed (and, for the relay, its rows deleted and committed) */
  readonly seconds: number;
  /** CPU of this process (SDK, client, and an embedded broker) */
  readonly cpuS: number;
  /** CPU of the PostgreSQL backends in the pass (relay only) */
  readonly pgCpuS: number;
}

export interface Batch {
  readonly topic: string;
  readonly ids: string[];
  readonly keys: string[];
  readonly data: unknown[];
}

let nextId = 0;

/** `count` order-like messages over `aggregates` keys, ~250 B of JSON each; ids unique in the run. */
export function makeBatch(topic: string, count: number, aggregates: number): Batch {
  const b: Batch = { topic, ids: [], keys: [], data: [] };
  for (let i = 0; i < count; i++) {
    const n = nextId++;
    b.ids.push(`m-${process.pid}-${n}`);
    b.keys.push(`order-${n % aggregates}`);
    b.data.push({
      orderId: n,
      customer: `c-${n % 977}`,
      amountCents: (n * 37) % 100_000,
      note: "x".repeat(160),
    });
  }
  return b;
}

const cpuS = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
};

/** The application publishing directly: `window` publishes in flight, each awaited for the broker's confirm. */
export async function plainPass(bus: Bus, b: Batch, window: number): Promise<OutboxPass> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < b.ids.length) {
      const i = next++;
      await bus.publish(b.topic, b.data[i], {
        id: b.ids[i] as string,
        key: b.keys[i] as string,
        type: "OrderPlaced",
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, b.ids.length) }, worker));
  return {
    kind: "plain",
    width: window,
    count: b.ids.length,
    seconds: (performance.now() - t0) / 1000,
    cpuS: cpuS(cpu0),
    pgCpuS: 0,
  };
}

/** Committed rows for the relay: `addAll` in transactions of 500 (not measured). */
export async function fillOutbox(pool: Pool, outbox: PostgresOutbox, b: Batch): Promise<void> {
  const client = await pool.connect();
  try {
    for (let i = 0; i < b.ids.length; i += 500) {
      await client.query("BEGIN");
      const end = Math.min(i + 500, b.ids.length);
      const msgs = [];
      for (let j = i; j < end; j++) {
        msgs.push({
          topic: b.topic,
          id: b.ids[j] as string,
          key: b.keys[j] as string,
          type: "OrderPlaced",
          data: b.data[j],
        });
      }
      await outbox.addAll(client, msgs);
      await client.query("COMMIT");
    }
  } finally {
    client.release();
  }
}

/** utime + stime of every backend of `database`, in seconds (this machine's clock ticks are 1/100 s). */
export async function pgBackendCpuS(pool: Pool): Promise<number> {
  const { readFileSync } = await import("node:fs");
  const r = await pool.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
  );
  let ticks = 0;
  for (const { pid } of r.rows) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the backend ended between the query and the read
    }
  }
  return ticks / 100;
}

/** A relay draining `b.ids.length` committed rows: from its start until they are all sent and it closed. */
export async function relayPass(
  pool: Pool,
  outbox: PostgresOutbox,
  bus: Bus,
  b: Batch,
  batchSize: number,
): Promise<OutboxPass> {
  await fillOutbox(pool, outbox, b);
  const pg0 = await pgBackendCpuS(pool);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // counts confirmed publishes in memory: polling relay.metrics() would query the table every few ms
  let confirmed = 0;
  let allSent: () => void = () => {};
  const done = new Promise<void>((resolve) => (allSent = resolve));
  const counting = {
    publish: async (topic: string, data: unknown, options?: Parameters<Bus["publish"]>[2]) => {
      const id = await bus.publish(topic, data, options);
      if (++confirmed === b.ids.length) allSent();
      return id;
    },
  };
  const pipeline =
    process.env.BENCH_PIPELINE === undefined ? {} : { pipeline: Number(process.env.BENCH_PIPELINE) };
  const relay = outbox.relay(counting, {
    batchSize,
    ...pipeline,
    onError: (e) => console.error("relay:", e),
  });
  await done;
  await relay.close();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuS(cpu0);
  const pgCpu = (await pgBackendCpuS(pool)) - pg0;
  const left = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${outbox.table}`);
  if (left.rows[0]?.n !== 0) throw new Error(`relay left ${left.rows[0]?.n} rows in ${outbox.table}`);
  return {
    kind: "relay",
    width: batchSize,
    count: b.ids.length,
    seconds,
    cpuS: cpu,
    pgCpuS: Math.max(0, pgCpu),
  };
}

/** Creates the group's queue before the passes publish (a topic keeps nothing for a group not yet there). */
export async function declareGroup(bus: Bus, topic: string, group: string): Promise<void> {
  const sub = await bus.subscribe(topic, { group }, () => {});
  await sub.close();
}

/** Drains the group the passes published to; returns [distinct ids received, duplicates]. */
export async function drain(
  bus: Bus,
  topic: string,
  group: string,
  expected: ReadonlySet<string>,
): Promise<[number, number]> {
  const seen = new Set<string>();
  let dup = 0;
  const sub = await bus.subscribe(
    topic,
    { group, concurrency: 100, prefetch: 1000, orderByKey: false },
    (m) => {
      if (seen.has(m.id)) dup++;
      else seen.add(m.id);
    },
  );
  // gives up only when nothing arrives for 30 s: a loaded machine drains a few hundred thousand slowly
  let last = -1;
  let lastMs = Date.now();
  while (seen.size < expected.size && Date.now() - lastMs < 30_000) {
    await new Promise((r) => setTimeout(r, 100));
    if (seen.size + dup !== last) [last, lastMs] = [seen.size + dup, Date.now()];
  }
  await new Promise((r) => setTimeout(r, 200));
  await sub.close();
  let missing = 0;
  for (const id of expected) if (!seen.has(id)) missing++;
  if (missing > 0) throw new Error(`${topic}: ${missing} of ${expected.size} messages never arrived`);
  return [seen.size, dup];
}
