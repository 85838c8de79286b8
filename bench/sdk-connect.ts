// npm run bench:sdk-connect — how long `await connect("embedded://DIR")` of the built @spindle/sdk takes in a
// fresh process (what a test file or a service pays once), and where that time goes: loading the SDK,
// loading the broker bundle, starting the broker, loading amqplib, the AMQP handshake (run step by step in a
// probe of their own), and the SDK bundle beside the unbundled tsc output. Runs alternate, BENCH_RUNS times
// each (default 9); medians, min, max.
// Wall time moves with the machine's load, so the process's CPU time until ready is shown too.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, printTable } from "./table.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const ROOT = fileURLToPath(new URL("..", import.meta.url));

// Each probe prints one JSON line: per phase, wall ms since the process started and CPU ms used by then.
const PRELUDE = `const t = {};
const mark = (k) => { const u = process.cpuUsage(); t[k] = [performance.now(), (u.user + u.system) / 1000]; };
mark("node started");`;
const connectProbe = (entry: string) => `${PRELUDE}
const { connect } = await import("${entry}");
mark("SDK loaded");
const bus = await connect("embedded://" + process.argv[2] + "?fsync=never");
mark("connected");
await bus.close();
console.log(JSON.stringify(t));`;
const PROBES: Record<string, string> = {
  "connect, SDK bundle (what @spindle/sdk exports)": connectProbe("@spindle/sdk"),
  "connect, SDK unbundled (tsc output)": connectProbe("./packages/sdk/dist/index.js"),
  "broker alone": `${PRELUDE}
const b = await import("@spindle/broker");
mark("broker loaded");
const config = b.resolveConfig({ argv: { dataDir: process.argv[2], host: "127.0.0.1", amqpPort: "0",
  kafkaPort: "0", httpPort: "0", fsync: "never", logLevel: "warn" }, env: {} });
const broker = await b.startBroker(config, b.createLogger("warn"));
mark("broker started");
const amqp = (await import("amqplib")).default;
mark("amqplib loaded");
const conn = await amqp.connect("amqp://guest:guest@" + broker.addresses.amqp);
mark("amqp connected");
await conn.close();
await broker.close();
console.log(JSON.stringify(t));`,
};

function probe(source: string): Record<string, [number, number]> {
  const dir = mkdtempSync(join(tmpdir(), `sdk-connect-${process.pid}-`));
  const file = join(ROOT, `.bench-sdk-connect-${process.pid}.mjs`); // in the repo: resolves @spindle/*
  try {
    writeFileSync(file, source);
    const r = spawnSync(process.execPath, [file, join(dir, "data")], { encoding: "utf8", cwd: ROOT });
    if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as Record<string, [number, number]>;
  } finally {
    rmSync(file, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const samples = new Map<string, Map<string, [number, number][]>>();
for (let i = 0; i < RUNS; i++) {
  for (const [name, source] of Object.entries(PROBES)) {
    const byPhase = samples.get(name) ?? new Map<string, [number, number][]>();
    samples.set(name, byPhase);
    for (const [phase, v] of Object.entries(probe(source)))
      byPhase.set(phase, [...(byPhase.get(phase) ?? []), v]);
  }
}

const rows: (string | number)[][] = [];
for (const [name, byPhase] of samples) {
  for (const [phase, vs] of byPhase) {
    const wall = vs.map((v) => v[0]);
    rows.push([
      name,
      phase,
      fmt(median(wall)),
      fmt(Math.min(...wall)),
      fmt(Math.max(...wall)),
      fmt(median(vs.map((v) => v[1]))),
    ]);
  }
}
printTable(
  `connect("embedded://…") in a fresh process: ms since the process started (${RUNS} runs each, alternating; load ${loadavg()[0]?.toFixed(1)})`,
  ["probe", "phase", "wall median", "min", "max", "CPU median"],
  rows,
);
