// npm run bench:kafka — Spindle over the Kafka protocol with a librdkafka client (confluent-kafka):
// 1 KiB produce throughput with kcat (acks=all, batching on, default fsync policy), consume throughput and end-to-end latency at
// a fixed rate, each beside the machine's own limit measured in this run, with broker CPU and RSS.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSpindle } from "../test/support/spindle-process.ts";
import { measureDisk } from "./disk-baseline.ts";
import { measureLoopback } from "./loopback-baseline.ts";
import { fmt, printTable } from "./table.ts";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 300_000);
const SIZE = 1024;
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const CLIENT = fileURLToPath(new URL("./kafka-clients.py", import.meta.url));
const TICKS_PER_SEC = 100;

function run(args: string[]): Record<string, number> {
  const r = spawnSync("/usr/bin/python3", [CLIENT, ...args], { encoding: "utf8", timeout: 600_000 });
  if (r.status !== 0) throw new Error(`client ${args[0]} failed: ${r.stderr}`);
  const last = r.stdout.trim().split("\n").pop() ?? "{}";
  return JSON.parse(last) as Record<string, number>;
}

/** kcat (librdkafka, C) for the throughput runs, so the client is not the bottleneck; seconds taken. */
function kcat(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync("kcat", args, { encoding: "utf8", timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`kcat failed: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

function rssMiB(pid: number, key: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) / 1024;
}

/** Runs `fn` and returns its result with the broker's CPU use (% of one core) while it ran. */
function withCpu<T>(pid: number, fn: () => T): { result: T; cpu: number; seconds: number } {
  const c0 = cpuTicks(pid);
  const t0 = performance.now();
  const result = fn();
  const seconds = (performance.now() - t0) / 1000;
  return { result, cpu: ((cpuTicks(pid) - c0) / TICKS_PER_SEC / seconds) * 100, seconds };
}

const dir = mkdtempSync(join(tmpdir(), "spindle-bench-kafka-"));
try {
  const disk = await measureDisk(dir, 512);
  const loopback = await measureLoopback(2048);
  const spindle = await startSpindle([], join(dir, "data"));
  const pid = spindle.child.pid ?? 0;
  const mib = (RECORDS * SIZE) / (1024 * 1024);
  const input = join(dir, "records.txt");
  writeFileSync(input, `${"x".repeat(SIZE - 1)}\n`.repeat(RECORDS));
  const batching = ["-X", "linger.ms=5", "-X", "batch.size=1000000", "-X", "acks=all"];
  const produce = withCpu(pid, () => ({
    seconds: kcat(["-b", spindle.kafka, "-P", "-t", "bench", ...batching, "-l", input]),
    errors: 0,
  }));
  const produceMBps = mib / produce.result.seconds;
  // fetch.wait.max.ms only shortens the last, empty fetch that tells kcat it reached the end (-e): with
  // librdkafka's default 500 ms long poll, that wait alone would be a large part of the measured time.
  const fetchSizes = [
    "-X",
    "fetch.max.bytes=52428800",
    "-X",
    "max.partition.fetch.bytes=10485760",
    "-X",
    "fetch.wait.max.ms=10",
  ];
  const consume = withCpu(pid, () => ({
    seconds: kcat([
      "-b",
      spindle.kafka,
      "-C",
      "-t",
      "bench",
      "-o",
      "beginning",
      "-e",
      "-q",
      "-f",
      "%o\n",
      ...fetchSizes,
    ]),
  }));
  const consumeMBps = mib / consume.result.seconds;
  const latency = withCpu(pid, () => run(["latency", spindle.kafka, "latency", String(RATE), "10"]));
  const rss = rssMiB(pid, "VmRSS");
  const hwm = rssMiB(pid, "VmHWM");
  await spindle.stop();
  printTable(
    `Kafka protocol, librdkafka clients (kcat for throughput, confluent-kafka for latency), ${RECORDS} × 1 KiB records, fsync group (default)`,
    ["measure", "Spindle", "baseline (this machine)", "ratio", "broker CPU %"],
    [
      [
        "produce acks=all (MB/s)",
        fmt(produceMBps),
        `${fmt(disk.seqWriteMBps)} MB/s write+fdatasync`,
        `${fmt((produceMBps / disk.seqWriteMBps) * 100, 0)}%`,
        fmt(produce.cpu, 0),
      ],
      ["produce acks=all (records/s)", fmt(RECORDS / produce.result.seconds, 0), "", "", ""],
      [
        "consume (MB/s)",
        fmt(consumeMBps),
        `${fmt(loopback)} MB/s loopback TCP`,
        `${fmt((consumeMBps / loopback) * 100, 0)}%`,
        fmt(consume.cpu, 0),
      ],
      [
        `end-to-end latency at ${RATE}/s p50 / p99 (ms)`,
        `${fmt(latency.result.p50 ?? -1, 2)} / ${fmt(latency.result.p99 ?? -1, 2)}`,
        `${fmt(1000 / disk.syncWritesPerSec, 2)} ms per 4 KiB fdatasync`,
        "",
        fmt(latency.cpu, 0),
      ],
    ],
  );
  console.log(
    `\nbroker RSS at end ${fmt(rss, 0)} MiB, peak ${fmt(hwm, 0)} MiB; produce errors ${produce.result.errors}; latency samples ${latency.result.count}/${latency.result.sent}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
