// npm run bench:amqp — the same amqplib harness against RabbitMQ (127.0.0.1:5672) and a fresh Spindle, in
// one run: producer and consumer in separate processes, 1 KiB messages, broker CPU and RSS from /proc.
// Prints msgs/s and the ratio Spindle ÷ RabbitMQ per scenario (BENCH_SCALE=2 doubles the message counts).
// Each scenario runs BENCH_RUNS times (default 3), alternating RabbitMQ and Spindle, each run starting once
// both brokers are quiet (no leftover work from the previous run), and reports medians:
// on a shared 2-core machine one run swings by ±30%, and a median of paired runs is what repeats.
// Before its measured runs each scenario runs once, unmeasured, at half its size against both brokers
// (BENCH_WARMUP=0 skips it): a fresh Spindle process is still compiling its hot path (V8's JIT) during
// its first 50k messages, and a long-running broker is what the table is about.
// BENCH_BASE_BIN=<another build's packages/broker/bin/spindle.js> also runs that build in every run (after
// this one's) and prints a second table: this build against it, broker CPU ms per 1,000 messages side by side.

import { execSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import amqplib from "amqplib";
import { type SpindleProcess, startSpindle } from "../test/support/spindle-process.ts";
import type { WorkerSpec } from "./amqp-worker.ts";
import { fmt, printTable } from "./table.ts";

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARMUP = process.env.BENCH_WARMUP !== "0";
/** before each run both brokers must be quiet: under this share of a core over QUIET_WINDOW_MS */
const QUIET_CPU_PCT = 5;
const QUIET_WINDOW_MS = 250;
const QUIET_WAIT_MAX_MS = 15_000;
const BASE_BIN = process.env.BENCH_BASE_BIN;
const RABBIT = process.env.RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const WORKER = fileURLToPath(new URL("./amqp-worker.ts", import.meta.url));
const TICKS_PER_S = 100;

interface Scenario {
  name: string;
  queues: number;
  fanout: boolean;
  spec: Omit<WorkerSpec, "role" | "url" | "queues" | "exchange">;
}

const ALL: Scenario[] = [
  {
    name: "1 persistent, confirms (1,000 outstanding), manual ack, prefetch 100",
    queues: 1,
    fanout: false,
    spec: {
      count: 20_000 * SCALE,
      bodyBytes: 1024,
      persistent: true,
      confirmWindow: 1000,
      prefetch: 100,
      noAck: false,
      rate: 0,
    },
  },
  {
    name: "2 transient, no confirms, autoAck",
    queues: 1,
    fanout: false,
    spec: {
      count: 50_000 * SCALE,
      bodyBytes: 1024,
      persistent: false,
      confirmWindow: 0,
      prefetch: 0,
      noAck: true,
      rate: 0,
    },
  },
  {
    name: "3 latency at 5,000 msg/s, persistent, confirms",
    queues: 1,
    fanout: false,
    spec: {
      count: 15_000 * SCALE,
      bodyBytes: 1024,
      persistent: true,
      confirmWindow: 1000,
      prefetch: 100,
      noAck: false,
      rate: 5000,
    },
  },
  {
    name: "4 fanout to 4 queues, transient, autoAck",
    queues: 4,
    fanout: true,
    spec: {
      count: 10_000 * SCALE,
      bodyBytes: 1024,
      persistent: false,
      confirmWindow: 0,
      prefetch: 0,
      noAck: true,
      rate: 0,
    },
  },
];

const SCENARIOS = ALL.filter((s) => !process.env.BENCH_ONLY || s.name.startsWith(process.env.BENCH_ONLY));

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) / 1024;
}

function runWorker(spec: WorkerSpec): { ready: Promise<void>; done: Promise<Record<string, number>> } {
  const child = spawn(process.execPath, ["--import", "tsx", WORKER, JSON.stringify(spec)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  const ready = new Promise<void>((resolve) => {
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      err += s;
      if (process.env.BENCH_DEBUG) process.stderr.write(`[${spec.role}] ${s}`);
      if (err.includes("consumer ready")) resolve();
    });
    if (spec.role === "producer") resolve();
  });
  const done = new Promise<Record<string, number>>((resolve, reject) =>
    child.once("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`${spec.role} exited ${code}: ${err}`)),
    ),
  );
  return { ready, done };
}

interface Measured {
  msgsPerS: number;
  cpuPct: number;
  rss: number;
  p50: number;
  p99: number;
  p999: number;
  /** broker CPU ms per 1,000 messages */
  cpuMsPer1k: number;
}

async function measure(url: string, pid: number, s: Scenario, tag: string): Promise<Measured> {
  const conn = await amqplib.connect(url);
  const ch = await conn.createChannel();
  const queues = Array.from({ length: s.queues }, (_, i) => `bench-${tag}-${process.pid}-${i}`);
  const exchange = s.fanout ? `bench-fanout-${tag}-${process.pid}` : "";
  if (s.fanout) await ch.assertExchange(exchange, "fanout", { durable: true });
  for (const q of queues) {
    await ch.assertQueue(q, { durable: true });
    if (s.fanout) await ch.bindQueue(q, exchange, "");
  }
  const base = { url, queues, exchange, ...s.spec };
  const ticks0 = cpuTicks(pid);
  const t0 = Date.now();
  const consumer = runWorker({ ...base, role: "consumer" });
  await consumer.ready;
  const producer = runWorker({ ...base, role: "producer" });
  const [p, c] = await Promise.all([producer.done, consumer.done]);
  const wall = (Date.now() - t0) / 1000;
  const cpuS = (cpuTicks(pid) - ticks0) / TICKS_PER_S;
  const cpuPct = (cpuS / wall) * 100;
  const rss = rssMiB(pid);
  for (const q of queues) await ch.deleteQueue(q);
  if (s.fanout) await ch.deleteExchange(exchange);
  await conn.close();
  const seconds = Math.max(p.seconds as number, c.seconds as number);
  return {
    msgsPerS: s.spec.count / seconds,
    cpuPct,
    rss,
    p50: c.p50 as number,
    p99: c.p99 as number,
    p999: c.p999 as number,
    cpuMsPer1k: (cpuS * 1e6) / s.spec.count,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** The median of each field over the runs. */
function medianOf(ms: Measured[]): Measured {
  const m = (k: keyof Measured) => median(ms.map((x) => x[k]));
  return {
    msgsPerS: m("msgsPerS"),
    cpuPct: m("cpuPct"),
    rss: m("rss"),
    p50: m("p50"),
    p99: m("p99"),
    p999: m("p999"),
    cpuMsPer1k: m("cpuMsPer1k"),
  };
}

const rabbitPid = Number(execSync("pgrep -o beam.smp").toString().trim());
const spindle = await startSpindle();
const base = BASE_BIN === undefined ? undefined : await startSpindle([], undefined, { bin: BASE_BIN });
const rows: (string | number)[][] = [];
const baseRows: (string | number)[][] = [];
const pids = [rabbitPid, spindle.child.pid as number, ...(base ? [base.child.pid as number] : [])];
async function measureBase(b: SpindleProcess, s: Scenario, run: number): Promise<Measured> {
  await quiet(pids);
  console.error(`# ${s.name}: Spindle, base build (run ${run}/${RUNS})`);
  return measure(b.url, b.child.pid as number, s, "base");
}
/** Waits until neither broker is still busy with the previous run (queue deletion, syncs, GC), so one
 *  broker's leftovers do not land in the other's measurement. */
async function quiet(pids: number[]): Promise<void> {
  const until = Date.now() + QUIET_WAIT_MAX_MS;
  while (Date.now() < until) {
    const before = pids.map(cpuTicks);
    await new Promise((r) => setTimeout(r, QUIET_WINDOW_MS));
    const busiest = Math.max(...pids.map((pid, i) => cpuTicks(pid) - (before[i] as number)));
    if ((busiest / TICKS_PER_S / (QUIET_WINDOW_MS / 1000)) * 100 < QUIET_CPU_PCT) return;
  }
}
try {
  for (const s of SCENARIOS) {
    const rs: Measured[] = [];
    const os: Measured[] = [];
    const bs: Measured[] = [];
    if (WARMUP) {
      const half = { ...s, spec: { ...s.spec, count: Math.ceil(s.spec.count / 2) } };
      console.error(`# ${s.name}: warm-up of both brokers (not measured)`);
      await measure(RABBIT, rabbitPid, half, "rmq");
      await measure(spindle.url, spindle.child.pid as number, half, "sp");
      if (base) await measure(base.url, base.child.pid as number, half, "base");
    }
    for (let run = 1; run <= RUNS; run++) {
      console.error(`# ${s.name}: RabbitMQ (run ${run}/${RUNS})`);
      await quiet(pids);
      rs.push(await measure(RABBIT, rabbitPid, s, "rmq"));
      // the base build goes first in every other run, so neither build always follows RabbitMQ
      const baseFirst = run % 2 === 0;
      if (base && baseFirst) bs.push(await measureBase(base, s, run));
      await quiet(pids);
      console.error(`# ${s.name}: Spindle (run ${run}/${RUNS})`);
      os.push(await measure(spindle.url, spindle.child.pid as number, s, "sp"));
      if (base && !baseFirst) bs.push(await measureBase(base, s, run));
    }
    if (base) {
      const b = medianOf(bs);
      const o = medianOf(os);
      baseRows.push([
        s.name,
        fmt(b.msgsPerS, 0),
        fmt(o.msgsPerS, 0),
        fmt(b.cpuMsPer1k, 1),
        fmt(o.cpuMsPer1k, 1),
        `${fmt(b.p50, 1)}/${fmt(b.p99, 1)}`,
        `${fmt(o.p50, 1)}/${fmt(o.p99, 1)}`,
      ]);
    }
    const latency = s.spec.rate > 0;
    // the ratio of each run pair, so that a slow minute of the machine hits both sides of a ratio
    const ratios = rs.map((r, i) => {
      const o = os[i] as Measured;
      return latency ? o.p99 / r.p99 : o.msgsPerS / r.msgsPerS;
    });
    const r = medianOf(rs);
    const o = medianOf(os);
    const range = `${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}`;
    rows.push([
      s.name,
      fmt(r.msgsPerS, 0),
      fmt(o.msgsPerS, 0),
      `${latency ? "p99 " : ""}${fmt(median(ratios), 2)}× (${range})`,
      latency ? `${fmt(r.p50, 1)}/${fmt(r.p99, 1)}/${fmt(r.p999, 1)}` : "",
      latency ? `${fmt(o.p50, 1)}/${fmt(o.p99, 1)}/${fmt(o.p999, 1)}` : "",
      `${fmt(r.cpuPct, 0)}% / ${fmt(o.cpuPct, 0)}%`,
      `${fmt(r.rss, 0)} / ${fmt(o.rss, 0)}`,
    ]);
  }
} finally {
  await spindle.stop();
  await base?.stop();
}
printTable(
  `AMQP: RabbitMQ vs Spindle, 1 KiB messages, amqplib (scale ${SCALE}; medians of ${RUNS} alternating runs${WARMUP ? ", after a warm-up run" : ""})`,
  [
    "scenario",
    "RabbitMQ msg/s",
    "Spindle msg/s",
    "Spindle÷RabbitMQ (median of pairs; range)",
    "RMQ p50/p99/p99.9 ms",
    "Spindle p50/p99/p99.9 ms",
    "broker CPU RMQ / Spindle",
    "RSS MiB RMQ / Spindle",
  ],
  rows,
);
if (base)
  printTable(
    `Spindle, this build vs base build (${BASE_BIN}); medians of ${RUNS} runs`,
    [
      "scenario",
      "base msg/s",
      "this msg/s",
      "base CPU ms/1k msgs",
      "this CPU ms/1k msgs",
      "base p50/p99 ms",
      "this p50/p99 ms",
    ],
    baseRows,
  );
