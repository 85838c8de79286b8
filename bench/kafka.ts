// npm run bench:kafka — Spindle over the Kafka protocol with librdkafka clients: 1 KiB produce throughput with kcat
// (acks=all, linger.ms=5, batch.size=1000000, default fsync policy), consume throughput (kcat with librdkafka's
// default fetch sizes, the median of BENCH_CONSUME_RUNS runs, default 5), and end-to-end latency at a fixed rate,
// each beside the machine's own limits measured in this run (dd oflag=dsync bs=1M in the data dir's filesystem;
// the client's ceilings: kcat into librdkafka's in-memory mock broker, kcat from an in-memory replay server
// (kafka-replay.ts); iperf3 one stream over loopback), with broker CPU (% of one core, and ms per MB: the figure
// to compare on a loaded machine), kcat's own CPU and page faults per consume run (kafka-consume.ts), and RSS.
// MB = 10^6 bytes. BENCH_BYTES (default 1 GiB) sizes the runs; BENCH_RATE the latency run; BENCH_CPU_PROF=DIR
// profiles the broker.

import { spawnSync } from "node:child_process";
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSpindle } from "../test/support/spindle-process.ts";
import { measureDd, measureDisk } from "./disk-baseline.ts";
import { type ConsumeRun, consumeRun, spread } from "./kafka-consume.ts";
import { startReplay } from "./kafka-replay.ts";
import { buildPartition, sampleBatching } from "./kafka-replay-partition.ts";
import { measureIperf3, measureLoopback } from "./loopback-baseline.ts";
import { fmt, printTable } from "./table.ts";

const SIZE = 1024;
const BYTES = Number(process.env.BENCH_BYTES ?? 2 ** 30);
const RECORDS = Math.floor(BYTES / SIZE);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const CONSUME_RUNS = Math.max(1, Number(process.env.BENCH_CONSUME_RUNS ?? 5));
const CLIENT = fileURLToPath(new URL("./kafka-clients.py", import.meta.url));
const TICKS_PER_SEC = 100;

function run(args: string[]): Record<string, number> {
  const r = spawnSync("/usr/bin/python3", [CLIENT, ...args], { encoding: "utf8", timeout: 600_000 });
  if (r.status !== 0) throw new Error(`client ${args[0]} failed: ${r.stderr}`);
  const last = r.stdout.trim().split("\n").pop() ?? "{}";
  return JSON.parse(last) as Record<string, number>;
}

/** kcat (librdkafka, C) for the produce runs, so the client is not the bottleneck; seconds taken. */
function kcat(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync("kcat", args, {
    encoding: "utf8",
    timeout: 1_200_000,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`kcat failed: ${r.stderr}`);
  return seconds;
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
  // consume, alternately from Spindle and from the in-memory replay server (the client's ceiling: the same
  // record and batch sizes as kcat produced, served from memory)
  const replayBatching = await sampleBatching(spindle.kafka, "bench", RECORDS);
  const replayed = buildPartition("bench", RECORDS, replayBatching);
  const replay = await startReplay(replayed);
  const brokerCpuMs = () => (cpuTicks(pid) / TICKS_PER_SEC) * 1000;
  const ownCpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const fromSpindle: ConsumeRun[] = [];
  const fromReplay: ConsumeRun[] = [];
  for (let i = 0; i < CONSUME_RUNS; i++) {
    fromSpindle.push(await consumeRun(spindle.kafka, "bench", RECORDS, dir, brokerCpuMs));
    fromReplay.push(await consumeRun(replay.address, "bench", RECORDS, dir, ownCpuMs));
  }
  await replay.close();
  const dirtyBefore = dirtyMiB();
  const latency = withCpu(pid, () => run(["latency", spindle.kafka, "latency", String(RATE), "10"]));
  const rss = rssMiB(pid, "VmRSS");
  const hwm = rssMiB(pid, "VmHWM");
  await spindle.stop();
  const ceiling = Math.min(dd ?? Number.POSITIVE_INFINITY, mock);
  const pct = (a: number, b: number) => `${fmt((a / b) * 100, 0)}%`;
  const consume = summarize(fromSpindle, mb);
  const ceil = summarize(fromReplay, mb);
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
        `${fmt(ceiling)} = min(disk, kcat → mock)`,
        `${pct(produceMBps, ceiling)} (≥ 50%)`,
        fmt(produce.cpu, 0),
        fmt(produce.cpuMs / mb, 2),
      ],
      ["produce acks=all (records/s)", fmt(RECORDS / produce.result, 0), "", "", "", ""],
      [
        `consume (MB/s), median of ${CONSUME_RUNS} (min–max)`,
        range(consume.rate),
        `${fmt(loopback)} loopback TCP; ${fmt(ceil.rate.median)} client ceiling`,
        `${pct(consume.rate.median, loopback)} of loopback (≥ 40%); ${pct(consume.rate.median, ceil.rate.median)} of ceiling`,
        fmt(consume.serverCpu.median, 0),
        fmt(consume.serverMsPerMB.median, 2),
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
        "client ceiling: kcat ← in-memory replay server (MB/s)",
        "",
        range(ceil.rate),
        "",
        fmt(ceil.serverCpu.median, 0),
        fmt(ceil.serverMsPerMB.median, 2),
      ],
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
  printTable(
    "consume runs, alternately from each server: kcat's own CPU (user + sys) and minor page faults (GNU time)",
    ["run", "from", "MB/s", "kcat CPU ms/MB", "of it sys", "kcat minor faults", "server CPU ms/MB"],
    fromSpindle.flatMap((r, i) => [
      runRow(i + 1, "Spindle", r, mb),
      runRow(i + 1, "replay server", fromReplay[i] as ConsumeRun, mb),
    ]),
  );
  const faults = (s: Summary) => (s.faults === null ? "n/a" : fmt(s.faults.median, 0));
  const clientMs = (s: Summary) => (s.clientMsPerMB === null ? "n/a" : fmt(s.clientMsPerMB.median, 2));
  console.log(
    `\nkcat consuming, medians from Spindle / the replay server: ${clientMs(consume)} / ${clientMs(ceil)} CPU ms/MB, ${faults(consume)} / ${faults(ceil)} minor faults. A run with many more faults and sys time than the others is kcat's glibc trimming its fetch thread's heap, not the server (docs/DESIGN.md, "Consume figure"). The replay row's broker CPU is the replay server's (this process); it serves batches of ${replayBatching.perBatch} records of ${replayBatching.valueBytes} bytes (${replayed.ends[0]} bytes a batch; the most common in Spindle's log).`,
  );
  console.log(
    `\nbroker RSS at end ${fmt(rss, 0)} MiB, peak ${fmt(hwm, 0)} MiB; latency samples ${latency.result.count}/${latency.result.sent}, max ${fmt(latency.result.max ?? -1, 1)} ms (page cache to write back before them ${fmt(dirtyBefore, 0)} MiB); load average ${loadBefore} before, ${load()} after (${cpus().length} cores)`,
  );
  if (profDir) console.log(`the broker's CPU profile is in ${profDir}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

interface Summary {
  rate: Spread;
  /** the server's CPU: % of one core, ms per MB */
  serverCpu: Spread;
  serverMsPerMB: Spread;
  /** kcat's CPU ms per MB and minor faults; null without GNU time */
  clientMsPerMB: Spread | null;
  faults: Spread | null;
}

type Spread = ReturnType<typeof spread>;

function summarize(runs: ConsumeRun[], mb: number): Summary {
  const known = (xs: (number | null)[]) => (xs.includes(null) ? null : spread(xs as number[]));
  return {
    rate: spread(runs.map((r) => mb / r.seconds)),
    serverCpu: spread(runs.map((r) => r.serverCpuMs / 10 / r.seconds)),
    serverMsPerMB: spread(runs.map((r) => r.serverCpuMs / mb)),
    clientMsPerMB: known(runs.map((r) => (r.clientCpuMs === null ? null : r.clientCpuMs / mb))),
    faults: known(runs.map((r) => r.minorFaults)),
  };
}

function range(s: Spread): string {
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

function runRow(n: number, from: string, r: ConsumeRun, mb: number): string[] {
  const perMB = (ms: number | null) => (ms === null ? "n/a" : fmt(ms / mb, 2));
  return [
    String(n),
    from,
    fmt(mb / r.seconds),
    perMB(r.clientCpuMs),
    perMB(r.clientSysMs),
    r.minorFaults === null ? "n/a" : String(r.minorFaults),
    perMB(r.serverCpuMs),
  ];
}
