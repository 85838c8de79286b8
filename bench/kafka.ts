// npm run bench:kafka — Spindle over the Kafka protocol with librdkafka clients: 1 KiB produce throughput with kcat
// (acks=all, linger.ms=5, batch.size=1000000, default fsync policy), consume throughput, and end-to-end latency at
// a fixed rate, each beside the machine's own limit measured in this run (dd oflag=dsync bs=1M in the data dir's
// filesystem, kcat into librdkafka's in-memory mock broker, iperf3 one stream over loopback), with broker CPU
// (% of one core, and ms per MB: the figure to compare on a loaded machine) and RSS. MB = 10^6 bytes.
// BENCH_BYTES (default 1 GiB) sizes the runs; BENCH_RATE the latency run; BENCH_CPU_PROF=DIR profiles the broker.

import { spawnSync } from "node:child_process";
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSpindle } from "../test/support/spindle-process.ts";
import { measureDd, measureDisk } from "./disk-baseline.ts";
import { measureIperf3, measureLoopback } from "./loopback-baseline.ts";
import { fmt, printTable } from "./table.ts";

const SIZE = 1024;
const BYTES = Number(process.env.BENCH_BYTES ?? 2 ** 30);
const RECORDS = Math.floor(BYTES / SIZE);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const CLIENT = fileURLToPath(new URL("./kafka-clients.py", import.meta.url));
const TICKS_PER_SEC = 100;

function run(args: string[]): Record<string, number> {
  const r = spawnSync("/usr/bin/python3", [CLIENT, ...args], { encoding: "utf8", timeout: 600_000 });
  if (r.status !== 0) throw new Error(`client ${args[0]} failed: ${r.stderr}`);
  const last = r.stdout.trim().split("\n").pop() ?? "{}";
  return JSON.parse(last) as Record<string, number>;
}

/**
 * kcat (librdkafka, C) for the throughput runs, so the client is not the bottleneck; seconds taken. Its output
 * goes to the file `out` when given: read through a pipe by this process, 1M offset lines made the consume figure
 * swing 326-787 MB/s in one run (the bench competing with kcat and the broker for 2 cores) against 870-985 MB/s
 * with the output in a file.
 */
function kcat(args: string[], out?: string): number {
  const fd = out === undefined ? "pipe" : openSync(out, "w");
  const t0 = performance.now();
  const r = spawnSync("kcat", args, {
    encoding: "utf8",
    timeout: 1_200_000,
    maxBuffer: 256 * 1024 * 1024,
    stdio: ["ignore", fd, "pipe"],
  });
  const seconds = (performance.now() - t0) / 1000;
  if (typeof fd === "number") closeSync(fd);
  if (r.status !== 0) throw new Error(`kcat failed: ${r.stderr}`);
  return seconds;
}

/** Every record was consumed once, in order: the file of offsets kcat printed holds 0 .. RECORDS - 1. */
function checkOffsets(path: string): void {
  const offsets = readFileSync(path, "utf8").trimEnd().split("\n");
  const wrong = offsets.findIndex((o, i) => Number(o) !== i);
  if (offsets.length !== RECORDS || wrong !== -1) {
    throw new Error(
      `consume read ${offsets.length} records (first wrong at line ${wrong}), ${RECORDS} expected`,
    );
  }
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

function rssMiB(pid: number, key: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) / 1024;
}

/** Runs `fn` and returns its result with the broker's CPU use while it ran: % of one core, and CPU ms. */
function withCpu<T>(pid: number, fn: () => T): { result: T; cpu: number; cpuMs: number; seconds: number } {
  const c0 = cpuTicks(pid);
  const t0 = performance.now();
  const result = fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = ((cpuTicks(pid) - c0) / TICKS_PER_SEC) * 1000;
  return { result, cpu: (cpuMs / 1000 / seconds) * 100, cpuMs, seconds };
}

/**
 * RECORDS lines of SIZE - 1 bytes and a newline: kcat -l sends each line as one 1 KiB record. Synced before
 * anything is timed: left dirty, the kernel writes the whole file back about 30 s later (dirty_expire), in
 * the middle of a measured phase — the broker's O_DSYNC appends then queue behind it (a 1 GiB writeback
 * stalled every ack for ~0.7 s, which alone made the latency p99 ~400 ms).
 */
function writeInput(path: string): void {
  const fd = openSync(path, "w");
  const chunk = Buffer.from(`${"x".repeat(SIZE - 1)}\n`.repeat(1024));
  for (let n = 0; n < RECORDS; n += 1024) writeSync(fd, chunk, 0, Math.min(1024, RECORDS - n) * SIZE);
  fsyncSync(fd);
  closeSync(fd);
}

/** Page cache waiting to be written back (Dirty + Writeback, MiB): other writers' data the disk still owes,
 *  which the broker's synced appends would queue behind. */
function dirtyMiB(): number {
  const meminfo = readFileSync("/proc/meminfo", "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(meminfo)?.[1] ?? 0);
  return (kb("Dirty") + kb("Writeback")) / 1024;
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

const dir = mkdtempSync(join(tmpdir(), "spindle-bench-kafka-"));
try {
  const loadBefore = load();
  const mb = (RECORDS * SIZE) / 1e6;
  const input = join(dir, "records.txt");
  writeInput(input);
  const batching = ["-X", "linger.ms=5", "-X", "batch.size=1000000", "-X", "acks=all"];
  // the machine's limits, in the same run: the disk (a sync per MiB, in the data dir's filesystem), the
  // client's own ceiling (kcat into librdkafka's in-memory mock broker), loopback TCP (one stream)
  const dd = measureDd(dir, Math.min(1024, Math.max(64, Math.round(BYTES / 2 ** 20))));
  const mock =
    mb /
    kcat([
      "-b",
      "mock:0",
      "-X",
      "test.mock.num.brokers=1",
      "-P",
      "-t",
      "bench",
      ...batching,
      "-q",
      "-l",
      input,
    ]);
  const iperf = await measureIperf3(3);
  const loopback = iperf ?? ((await measureLoopback(2048)) * 2 ** 20) / 1e6;
  const disk = await measureDisk(dir, 16);
  const profDir = process.env.BENCH_CPU_PROF;
  const nodeArgs = profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [];
  const spindle = await startSpindle([], join(dir, "data"), { nodeArgs });
  const pid = spindle.child.pid ?? 0;
  const produce = withCpu(pid, () =>
    kcat(["-b", spindle.kafka, "-P", "-t", "bench", ...batching, "-l", input]),
  );
  const produceMBps = mb / produce.result;
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
  const consumeArgs = ["-C", "-t", "bench", "-o", "beginning", "-e", "-q", "-f", "%o\\n", ...fetchSizes];
  const offsetsOut = join(dir, "offsets.txt");
  const consume = withCpu(pid, () => kcat(["-b", spindle.kafka, ...consumeArgs], offsetsOut));
  checkOffsets(offsetsOut);
  const consumeMBps = mb / consume.result;
  const dirtyBefore = dirtyMiB();
  const latency = withCpu(pid, () => run(["latency", spindle.kafka, "latency", String(RATE), "10"]));
  const rss = rssMiB(pid, "VmRSS");
  const hwm = rssMiB(pid, "VmHWM");
  await spindle.stop();
  const ceiling = Math.min(dd ?? Number.POSITIVE_INFINITY, mock);
  const pct = (a: number, b: number) => `${fmt((a / b) * 100, 0)}%`;
  printTable(
    `Kafka protocol, librdkafka clients (kcat for throughput, confluent-kafka for latency), ${RECORDS} × 1 KiB records, fsync group (default), MB = 10^6 bytes`,
    [
      "measure",
      "Spindle",
      "baseline (this machine, this run)",
      "ratio (target)",
      "broker CPU %",
      "broker CPU ms/MB",
    ],
    [
      [
        "produce acks=all (MB/s)",
        fmt(produceMBps),
        `${fmt(ceiling)} = min(disk, client ceiling)`,
        `${pct(produceMBps, ceiling)} (≥ 50%)`,
        fmt(produce.cpu, 0),
        fmt(produce.cpuMs / mb, 2),
      ],
      ["produce acks=all (records/s)", fmt(RECORDS / produce.result, 0), "", "", "", ""],
      [
        "consume (MB/s)",
        fmt(consumeMBps),
        `${fmt(loopback)} loopback TCP`,
        `${pct(consumeMBps, loopback)} (≥ 40%)`,
        fmt(consume.cpu, 0),
        fmt(consume.cpuMs / mb, 2),
      ],
      [
        `end-to-end latency at ${RATE}/s p50 / p99 (ms)`,
        `${fmt(latency.result.p50 ?? -1, 2)} / ${fmt(latency.result.p99 ?? -1, 2)}`,
        `${fmt(1000 / disk.syncWritesPerSec, 2)} ms per 4 KiB fdatasync`,
        "",
        fmt(latency.cpu, 0),
        "",
      ],
      ["disk: dd oflag=dsync bs=1M (MB/s)", "", dd === null ? "dd failed" : fmt(dd), "", "", ""],
      ["client ceiling: kcat → librdkafka mock broker (MB/s)", "", fmt(mock), "", "", ""],
      [
        `loopback: ${iperf === null ? "node (no iperf3)" : "iperf3"}, one stream (MB/s)`,
        "",
        fmt(loopback),
        "",
        "",
        "",
      ],
    ],
  );
  console.log(
    `\nbroker RSS at end ${fmt(rss, 0)} MiB, peak ${fmt(hwm, 0)} MiB; latency samples ${latency.result.count}/${latency.result.sent} (page cache to write back before them ${fmt(dirtyBefore, 0)} MiB); load average ${loadBefore} before, ${load()} after (${cpus().length} cores)`,
  );
  if (profDir) console.log(`the broker's CPU profile is in ${profDir}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
