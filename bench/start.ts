// npm run bench:start — how long the built `spindle start` takes from spawn to its ready line, and its idle RSS,
// beside the floor: an empty node:net server launched the same way (`node file.mjs`), measured in the same run.
// Runs alternate floor / fresh data dir / restart over data, BENCH_RUNS times each (default 15); medians, min, max.
// Wall time moves with the machine's load (a shared 2-core VM), so the CPU the process used until ready is shown too.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import amqplib from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { startSpindle } from "../test/support/spindle-process.ts";
import { fmt, printTable } from "./table.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
/** messages in the durable queue and records in the topic of the "restart over data" data dir */
const SEED = Number(process.env.BENCH_SEED ?? 10_000);
const IDLE_MS = 1000;
const READY_TIMEOUT_MS = 30_000;
const TICKS_PER_S = 100;
const BIN = fileURLToPath(new URL("../packages/broker/bin/spindle.js", import.meta.url));
const BUILT = fileURLToPath(new URL("../packages/broker/dist/bundle/cli.js", import.meta.url));

const FLOOR_SOURCE = `import { createServer } from "node:net";
const server = createServer();
server.listen(0, "127.0.0.1", () => process.stdout.write(\`ready pid=\${process.pid} port=\${server.address().port}\\n\`));
`;

type Sample = { readyMs: number; cpuMs: number; rssMiB: number };

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_S) * 1000;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) / 1024;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until `child` prints a line matching `ready` on stdout; resolves with the time it did. */
function readyAt(child: ChildProcess, ready: RegExp): Promise<number> {
  let out = "";
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (err += s.slice(0, 4096)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line: ${err}`)), READY_TIMEOUT_MS);
    child.stdout?.setEncoding("utf8").on("data", (s: string) => {
      const now = performance.now();
      out += s;
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(now);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before it was ready: ${err}`));
    });
  });
}

/** One launch: spawn → ready line, CPU used by then, RSS after IDLE_MS of idling; then SIGTERM and wait. */
async function launch(args: string[], ready: RegExp): Promise<Sample> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const t1 = await readyAt(child, ready);
    const pid = child.pid ?? 0;
    const cpu = cpuMs(pid);
    await sleep(IDLE_MS);
    return { readyMs: t1 - t0, cpuMs: cpu, rssMiB: rssMiB(pid) };
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

function spindleArgs(dataDir: string): string[] {
  return [BIN, "start", "--data-dir", dataDir, "--amqp-port", "0", "--kafka-port", "0", "--http-port", "0"];
}

/** A data dir as a restart finds it: a durable queue with SEED persistent messages, a 3-partition topic with SEED records. */
async function seedDataDir(dataDir: string): Promise<void> {
  const spindle = await startSpindle([], dataDir);
  try {
    const conn = await amqplib.connect(spindle.url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue("bench-start", { durable: true });
    const body = Buffer.alloc(1024, 0x61);
    for (let i = 0; i < SEED; i++) ch.sendToQueue("bench-start", body, { persistent: true });
    await ch.waitForConfirms();
    await conn.close();
    const kafka = new Kafka({ brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "bench-start", numPartitions: 3 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    for (let sent = 0; sent < SEED; sent += 1000) {
      const n = Math.min(1000, SEED - sent);
      const messages = Array.from({ length: n }, (_, i) => ({ key: String(sent + i), value: body }));
      await producer.send({ topic: "bench-start", acks: -1, messages });
    }
    await producer.disconnect();
  } finally {
    await spindle.stop();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

type Stats = { median: number; min: number; max: number };

function stats(xs: number[]): Stats {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
}

function row(what: string, spindle: number[], floor: number[], digits = 0): string[] {
  const s = stats(spindle);
  const f = stats(floor);
  return [
    what,
    fmt(s.median, digits),
    fmt(s.min, digits),
    fmt(s.max, digits),
    fmt(f.median, digits),
    fmt(f.min, digits),
    fmt(f.max, digits),
    fmt(s.median - f.median, digits),
    fmt(s.median / f.median, 2),
  ];
}

if (!existsSync(BUILT)) throw new Error(`no built CLI at ${BUILT}: run npm run build first`);
const dir = mkdtempSync(join(tmpdir(), "spindle-bench-start-"));
try {
  const floorFile = join(dir, "floor.mjs");
  writeFileSync(floorFile, FLOOR_SOURCE);
  const seeded = join(dir, "seeded");
  await seedDataDir(seeded);
  const load0 = loadavg()[0] ?? 0;
  const floor: Sample[] = [];
  const fresh: Sample[] = [];
  const restart: Sample[] = [];
  const spindleReady = /^spindle ready pid=\d+ /m;
  for (let i = 0; i < RUNS; i++) {
    floor.push(await launch([floorFile], /^ready /m));
    const dataDir = join(dir, `fresh-${i}`);
    fresh.push(await launch(spindleArgs(dataDir), spindleReady));
    rmSync(dataDir, { recursive: true, force: true });
    restart.push(await launch(spindleArgs(seeded), spindleReady));
  }
  const load1 = loadavg()[0] ?? 0;
  const pick = (xs: Sample[], k: keyof Sample) => xs.map((x) => x[k]);
  printTable(
    `Start-up: built \`spindle start\` vs an empty node:net server (${RUNS} alternating runs; load average ${fmt(load0, 1)} → ${fmt(load1, 1)} on ${cpus().length} cores, shared)`,
    [
      "measure",
      "Spindle median",
      "min",
      "max",
      "floor median",
      "min",
      "max",
      "Spindle − floor",
      "Spindle ÷ floor",
    ],
    [
      row("spawn → ready line, ms (fresh data dir)", pick(fresh, "readyMs"), pick(floor, "readyMs")),
      row("CPU until ready, ms (fresh data dir)", pick(fresh, "cpuMs"), pick(floor, "cpuMs")),
      row("idle RSS after 1 s, MiB (fresh data dir)", pick(fresh, "rssMiB"), pick(floor, "rssMiB"), 1),
      row(
        `spawn → ready line, ms (restart: ${SEED} queued messages + ${SEED} records)`,
        pick(restart, "readyMs"),
        pick(floor, "readyMs"),
      ),
      row("CPU until ready, ms (restart)", pick(restart, "cpuMs"), pick(floor, "cpuMs")),
      row("idle RSS after 1 s, MiB (restart)", pick(restart, "rssMiB"), pick(floor, "rssMiB"), 1),
    ],
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
