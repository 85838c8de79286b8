// bench:patterns, parts 2 and 3: event-store appends with an expected version, and a projection catching
// up, each beside a plain-SQL peer in the same database and run (one INSERT per transaction; reading the
// events without projecting them). Invariant: every pass uses tables of its own, named with the pid.

import { performance } from "node:perf_hooks";
import type { EventStore, Projection, ProjectionStore } from "@spindle/sdk";
import { project } from "@spindle/sdk";

export interface RatePass {
  readonly label: string;
  readonly count: number;
  readonly seconds: number;
  readonly cpuS: number;
}

const cpuS = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
};

export async function timed(label: string, count: number, fn: () => Promise<void>): Promise<RatePass> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  return { label, count, seconds: (performance.now() - t0) / 1000, cpuS: cpuS(cpu0) };
}

const eventData = (i: number) => ({ amountCents: (i * 37) % 10_000, note: "deposit", at: i });

/**
 * `workers` appenders side by side, each over streams of its own, one event per append with the version
 * it last got as the expected one (so every append is checked and none conflicts).
 */
export async function appendEvents(
  store: EventStore<never>,
  prefix: string,
  count: number,
  workers: number,
  streamsPerWorker = 10,
): Promise<void> {
  const per = Math.ceil(count / workers);
  const worker = async (w: number) => {
    const versions = new Array<number>(streamsPerWorker).fill(0);
    for (let i = 0; i < per && w * per + i < count; i++) {
      const s = i % streamsPerWorker;
      const r = await store.append(`${prefix}-${w}-${s}`, [{ type: "Deposited", data: eventData(i) }], {
        expectedVersion: versions[s] as number,
      });
      versions[s] = r.nextExpectedVersion;
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
}

/** The peer: `insert(i)` commits one row per call, `workers` callers side by side. */
export async function plainInserts(
  count: number,
  workers: number,
  insert: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await insert(next++);
  };
  await Promise.all(Array.from({ length: workers }, worker));
}

/** Events for a catch-up: `count` events appended 50 to a stream (not measured). */
export async function fillEvents(store: EventStore<never>, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    const n = Math.min(50, count - i);
    await store.append(
      `${prefix}-${i / 50}`,
      Array.from({ length: n }, (_, j) => ({ type: "Deposited", data: eventData(i + j) })),
      { expectedVersion: "no-stream" },
    );
  }
}

/** Runs a projection from the beginning until it has applied everything; resolves when caught up. */
export async function catchUp<Tx>(
  store: EventStore<never>,
  projection: Projection<Tx>,
  projections: ProjectionStore<Tx>,
  batchSize: number,
): Promise<void> {
  const p = await project(store, projection, projections, { batchSize });
  await p.caughtUp;
  await p.close();
}

/** The peer of a catch-up: reading every event in pages of `batchSize`, nothing written. */
export async function readThrough(store: EventStore<never>, count: number, batchSize: number): Promise<void> {
  let after: string | undefined;
  let n = 0;
  for (;;) {
    const page = await store.readAll({ ...(after === undefined ? {} : { after }), limit: batchSize });
    if (page.length === 0) break;
    n += page.length;
    after = page.at(-1)?.checkpoint;
  }
  if (n !== count) throw new Error(`read ${n} events, expected ${count}`);
}
