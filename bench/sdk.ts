// npm run bench:sdk — @spindle/sdk against its peers, 1 KiB JSON jobs handled with concurrency 50 and
// acknowledged after the handler: (1) the SDK on embedded:// beside BullMQ on the local Redis
// (127.0.0.1:6379), (2) the SDK's amqp:// transport beside raw amqplib on one Spindle process, (3) the SDK
// on embedded:// when 10% of the jobs fail twice before they succeed (in-process retries).
// Each measurement runs in a fresh process (bench/sdk-worker.ts): a warm-up pass, then the measured one,
// with the SDK and the broker built (dist/, as applications load them; npm run bench:sdk builds first).
// BENCH_RUNS=N repeats the set (alternating the order of each pair) and prints median (min–max).
// BENCH_COUNT (default 100,000) and BENCH_WARMUP (default a tenth of it; 0 skips) size the passes.
// BENCH_TABLES=1,2,3 picks the tables to measure (default all; BENCH_TABLES=2 runs only the amqp:// pair).
// On a machine shared with other work, wall-clock rates move with its load; the CPU columns (every
// process of a system: the SDK process with its embedded broker, or client + redis-server / spindle)
// and the ratios of runs made side by side are what repeat.

import { execSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { startSpindle } from "../test/support/spindle-process.ts";
import type { PassResult, SdkBenchSpec, SystemName } from "./sdk-worker.ts";
import { fmt, printTable } from "./table.ts";

const COUNT = Number(process.env.BENCH_COUNT ?? 100_000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? Math.ceil(COUNT / 10));
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
const TABLES = new Set((process.env.BENCH_TABLES ?? "1,2,3").split(",").map((t) => t.trim()));
const WORKER = fileURLToPath(new URL("./sdk-worker.ts", import.meta.url));

const BASE = {
  count: COUNT,
  warmup: WARMUP,
  bodyBytes: 1024,
  concurrency: 50,
  window: 1000,
  failEvery: 0,
  failTimes: 0,
} as const;

function version(pkg: string): string {
  const file = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

async function runChild(spec: SdkBenchSpec): Promise<PassResult> {
  const child = spawn(
    process.execPath,
    // no --conditions=source: @spindle/sdk and @spindle/broker load from dist/, as an application runs them
    ["--import", "tsx", WORKER, JSON.stringify(spec)],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    err += s;
    if (process.env.BENCH_DEBUG) process.stderr.write(`[${spec.system}] ${s}`);
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`${spec.system} exited ${code}: ${err}`);
  return JSON.parse(out.trim()) as PassResult;
}

/** The tables a system's runs are printed in (table 3 compares with table 1's SDK row). */
function tablesOf(key: SystemName | "sdk-retry"): string[] {
  if (key === "sdk-embedded") return ["1", "3"];
  if (key === "bullmq") return ["1"];
  return key === "sdk-retry" ? ["3"] : ["2"];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** "median (min–max)" over the runs, or the one value. */
function cell(xs: number[], digits = 0): string {
  if (xs.length === 1) return fmt(xs[0] as number, digits);
  return `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;
}

const jobsPerS = (m: PassResult) => m.handled / m.e2eS;

/** A system's runs as one table row: rates, latency, CPU per 1,000 jobs. */
function row(label: string, ms: PassResult[]): string[] {
  return [
    label,
    cell(ms.map(jobsPerS)),
    cell(ms.map((m) => m.handled / m.publishS)),
    cell(ms.map((m) => m.handled / m.handleS)),
    cell(ms.map((m) => m.p50)),
    cell(ms.map((m) => m.p99)),
    cell(ms.map((m) => ((m.cpuS + m.peerCpuS) / m.handled) * 1e6)),
  ];
}

/** Per-run ratios b ÷ a of `f` (runs made side by side share the machine's minute). */
const ratios = (a: PassResult[], b: PassResult[], f: (m: PassResult) => number) =>
  a.map((x, i) => f(b[i] as PassResult) / f(x));

const HEADER = [
  "system",
  "jobs/s end to end",
  "publish/s",
  "handle/s",
  "p50 ms",
  "p99 ms",
  "CPU ms / 1,000 jobs",
];

function checkAll(name: string, ms: PassResult[]): void {
  for (const m of ms) {
    if (m.handled !== COUNT || m.duplicates !== 0) {
      throw new Error(`${name}: ${m.handled} of ${COUNT} jobs handled, ${m.duplicates} twice`);
    }
  }
}

const redisPid = Number(execSync("pgrep -o redis-server").toString().trim());
const redisInfo = execSync("redis-cli -p 6379 info server").toString();
const redisVersion = /redis_version:(\S+)/.exec(redisInfo)?.[1] ?? "?";
const redisAof = execSync("redis-cli -p 6379 config get appendonly").toString().split("\n")[1]?.trim();
const load = os.loadavg();
console.log("\n### Machine and versions\n");
console.log(`- ${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB`);
console.log(`- load average before the run: ${load.map((l) => fmt(l, 2)).join(" ")} (1, 5, 15 min)`);
console.log(
  `- node ${process.version}; spindle ${version("@spindle/broker")} (${execSync("git rev-parse --short HEAD").toString().trim()}), ` +
    `@spindle/sdk ${version("@spindle/sdk")}, amqplib ${version("amqplib")}, bullmq ${version("bullmq")}, ` +
    `ioredis ${version("ioredis")}, redis-server ${redisVersion} (appendonly ${redisAof})`,
);
console.log(
  `- ${COUNT.toLocaleString("en")} × ${BASE.bodyBytes} B jobs per pass after a ${WARMUP.toLocaleString("en")}-job warm-up; ` +
    `concurrency ${BASE.concurrency}; ${BASE.window} publishes in flight (BullMQ: addBulk of ${BASE.window}); ` +
    `Spindle confirms once on disk (--fsync group); ${RUNS} run${RUNS === 1 ? "" : "s"}`,
);

const spindle = await startSpindle();
const spindlePid = spindle.child.pid as number;
const results: Record<SystemName | "sdk-retry", PassResult[]> = {
  "sdk-embedded": [],
  bullmq: [],
  amqplib: [],
  "sdk-amqp": [],
  "sdk-retry": [],
};
const retrySpec = { ...BASE, system: "sdk-embedded", failEvery: 10, failTimes: 2 } as const;
try {
  for (let run = 1; run <= RUNS; run++) {
    const flip = run % 2 === 0;
    const steps: [keyof typeof results, SdkBenchSpec][] = [
      ["sdk-embedded", { ...BASE, system: "sdk-embedded" }],
      ["bullmq", { ...BASE, system: "bullmq", peerPid: redisPid }],
      ["amqplib", { ...BASE, system: "amqplib", amqpUrl: spindle.url, peerPid: spindlePid }],
      ["sdk-amqp", { ...BASE, system: "sdk-amqp", amqpUrl: spindle.url, peerPid: spindlePid }],
      ["sdk-retry", retrySpec],
    ];
    if (flip) [steps[0], steps[1], steps[2], steps[3]] = [steps[1]!, steps[0]!, steps[3]!, steps[2]!];
    for (const [key, spec] of steps) {
      if (!tablesOf(key).some((t) => TABLES.has(t))) continue;
      console.error(`# run ${run}/${RUNS}: ${key}`);
      const m = await runChild(spec);
      results[key].push(m);
      // the split the table's CPU column sums: client (with an embedded broker) and peer broker
      const perK = (s: number) => fmt((s / m.handled) * 1e6, 1);
      console.error(
        `#   ${jobsPerS(m).toFixed(0)} jobs/s; CPU ms / 1,000: ${perK(m.cpuS)} + ${perK(m.peerCpuS)} peer`,
      );
    }
  }
} finally {
  await spindle.stop();
}
for (const [k, ms] of Object.entries(results)) checkAll(k, ms);

const sdk = results["sdk-embedded"];
if (TABLES.has("1")) {
  const bull = results.bullmq;
  const sdkVsBull = ratios(bull, sdk, jobsPerS);
  printTable(
    "1. Jobs: @spindle/sdk on embedded:// vs BullMQ on Redis (target: ≥ 2× BullMQ's jobs/s)",
    HEADER,
    [
      row("@spindle/sdk, embedded:// (broker in the process)", sdk),
      row("BullMQ, Redis 127.0.0.1:6379", bull),
      ["SDK ÷ BullMQ", `${cell(sdkVsBull, 2)}×`, "", "", "", "", ""],
    ],
  );
}
if (TABLES.has("2")) {
  const raw = results.amqplib;
  const viaSdk = results["sdk-amqp"];
  const overhead = ratios(raw, viaSdk, jobsPerS).map((r) => (1 - r) * 100);
  printTable(
    "2. SDK overhead on one Spindle process: amqp:// transport vs raw amqplib (target: ≤ 15% fewer msgs/s)",
    HEADER,
    [
      row("amqplib: confirm channel, consumer prefetch 50, ack", raw),
      row("@spindle/sdk, amqp://", viaSdk),
      ["SDK's msgs/s below raw", `${cell(overhead, 1)}%`, "", "", "", "", ""],
    ],
  );
}
if (TABLES.has("3")) {
  const withRetry = results["sdk-retry"];
  const added = (f: (m: PassResult) => number) => {
    const s = cell(withRetry.map((m, i) => f(m) - f(sdk[i] as PassResult)));
    return s.startsWith("-") ? s : `+${s}`;
  };
  printTable(
    "3. Retries: 10% of the jobs fail twice, then succeed (retry.exponential, initialMs 10, in process)",
    [...HEADER, "handler calls"],
    [
      [...row("@spindle/sdk, embedded://, no failures (table 1)", sdk), cell(sdk.map((m) => m.handlerCalls))],
      [
        ...row("@spindle/sdk, embedded://, 10% fail twice", withRetry),
        cell(withRetry.map((m) => m.handlerCalls)),
      ],
      [
        "with retries ÷ without; added ms",
        `${cell(ratios(sdk, withRetry, jobsPerS), 2)}×`,
        "",
        "",
        added((m) => m.p50),
        added((m) => m.p99),
        "",
        "",
      ],
    ],
  );
}
console.log(
  "\nLatency is publish call → handler done, so it includes the wait behind the jobs published before " +
    "(all are published at once). handle/s: first → last job handled.",
);
