// npm run bench:log — the storage engine against the disk it runs on: append throughput per fsync
// policy, record size and appender count; read throughput; recovery time of a 1 GiB log; RSS growth.

import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32c } from "@node-rs/crc32";
import { nodeFs, silentLogger, systemClock } from "../packages/broker/src/lib/index.ts";
import {
  DEFAULT_LOG_CONFIG,
  FileLog,
  type FsyncPolicy,
  formatFsyncPolicy,
} from "../packages/broker/src/log/index.ts";
import { encodeRecordBatch } from "../packages/protocol/src/index.ts";
import { type DiskBaseline, measureDisk } from "./disk-baseline.ts";
import { fmt, mb, printTable } from "./table.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const RECOVERY_GIB = Number(process.env.BENCH_RECOVERY_GIB ?? 1);
/** appends each appender keeps in flight, like a producer's window of unacknowledged sends */
const WINDOW = 64;
/** The big log stays in one unsealed segment: recovery then scans all of it, the worst case. */
const BIG_SEGMENT_BYTES = 2 * 1024 ** 3;
const root = await mkdtemp(join(process.env.SPINDLE_BENCH_DIR ?? tmpdir(), "spindle-bench-log-"));

const openLog = (dir: string, fsync: FsyncPolicy, segmentBytes = DEFAULT_LOG_CONFIG.segmentBytes) =>
  FileLog.open({
    fs: nodeFs,
    dir,
    clock: systemClock,
    logger: silentLogger,
    config: { ...DEFAULT_LOG_CONFIG, fsync, segmentBytes, retentionMs: -1 },
  });

function batchOf(recordBytes: number): Buffer {
  return encodeRecordBatch(
    { records: [{ value: Buffer.alloc(recordBytes, 97) }], timestamp: Date.now() },
    crc32c,
  );
}

/** Appenders each keep WINDOW single-record appends in flight for SECONDS; returns records and bytes. */
async function appendFor(
  log: FileLog,
  template: Buffer,
  appenders: number,
): Promise<{ records: number; secs: number }> {
  let records = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const lane = async () => {
    while (performance.now() < deadline) {
      await log.append(Buffer.from(template));
      records++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: appenders * WINDOW }, lane));
  return { records, secs: (performance.now() - t0) / 1000 };
}

async function appendMatrix(base: DiskBaseline): Promise<void> {
  const rows: (string | number)[][] = [];
  const policies: FsyncPolicy[] = [
    { mode: "group" },
    { mode: "always" },
    { mode: "interval", intervalMs: 100 },
    { mode: "never" },
  ];
  for (const fsync of policies) {
    for (const size of [100, 1024, 16 * 1024]) {
      for (const appenders of [1, 16]) {
        const dir = join(root, `append-${formatFsyncPolicy(fsync).replace(":", "-")}-${size}-${appenders}`);
        const log = await openLog(dir, fsync);
        const template = batchOf(size);
        const r = await appendFor(log, template, appenders);
        await log.close();
        await rm(dir, { recursive: true });
        const mbps = mb(r.records * size) / r.secs;
        rows.push([
          formatFsyncPolicy(fsync),
          size,
          appenders,
          fmt(r.records / r.secs, 0),
          fmt(mbps),
          fmt(mbps / base.seqWriteMBps, 2),
        ]);
      }
    }
  }
  printTable(
    `Append throughput (${SECONDS}s per cell, single-record batches, ${WINDOW} in flight per appender)`,
    ["fsync", "record B", "appenders", "records/s", "payload MB/s", "÷ seq write+fdatasync"],
    rows,
  );
}

/** Fills a log to `bytes` with 1 KiB records (group commit), sampling RSS along the way. */
async function fill(dir: string, bytes: number, samplesAt: number[]): Promise<[number, number][]> {
  const log = await openLog(dir, { mode: "group" }, BIG_SEGMENT_BYTES);
  const template = batchOf(1024);
  const samples: [number, number][] = [];
  let next = 0;
  const lane = async () => {
    while (log.sizeBytes < bytes) await log.append(Buffer.from(template));
  };
  const sampler = setInterval(() => {
    if (next < samplesAt.length && log.sizeBytes >= samplesAt[next]!) {
      globalThis.gc?.();
      samples.push([log.sizeBytes, process.memoryUsage().rss]);
      next++;
    }
  }, 20);
  await Promise.all(Array.from({ length: 16 * WINDOW }, lane));
  clearInterval(sampler);
  globalThis.gc?.();
  if (samples.length < samplesAt.length) samples.push([log.sizeBytes, process.memoryUsage().rss]);
  await log.close();
  return samples;
}

async function readThroughput(dir: string): Promise<{ mbps: number; bytes: number }> {
  const log = await openLog(dir, { mode: "group" }, BIG_SEGMENT_BYTES);
  let offset = log.startOffset;
  let bytes = 0;
  const t0 = performance.now();
  while (offset < log.endOffset) {
    const r = await log.read(offset, 1024 * 1024);
    bytes += r.data.length;
    offset = r.nextOffset;
  }
  const secs = (performance.now() - t0) / 1000;
  await log.close();
  return { mbps: mb(bytes) / secs, bytes };
}

function dropPageCache(): boolean {
  try {
    writeFileSync("/proc/sys/vm/drop_caches", "1");
    return true;
  } catch {
    return false;
  }
}

async function recoveryTime(dir: string): Promise<{ ms: number; cold: boolean }> {
  const cold = dropPageCache();
  const t0 = performance.now();
  const log = await openLog(dir, { mode: "group" }, BIG_SEGMENT_BYTES);
  const ms = performance.now() - t0;
  await log.close();
  return { ms, cold };
}

async function main(): Promise<void> {
  console.log(`spindle bench:log — node ${process.version}, data in ${root}`);
  const base = await measureDisk(root);
  printTable(
    "Machine baseline (same run)",
    ["measure", "value"],
    [
      ["sequential write, fdatasync per 1 MiB", `${fmt(base.seqWriteMBps)} MB/s`],
      ["4 KiB write + fdatasync", `${fmt(base.syncWritesPerSec, 0)} /s`],
    ],
  );
  await appendMatrix(base);

  const dir = join(root, "big");
  const total = RECOVERY_GIB * 1024 ** 3;
  const marks = [100, 256, 512, 768, 1024].map((m) => (m / 1024) * total);
  const rss = await fill(dir, total, marks);
  printTable(
    "RSS while one log grows (1 KiB records, group commit)",
    ["log size MB", "RSS MB"],
    rss.map(([size, r]) => [fmt(mb(size), 0), fmt(mb(r))]),
  );
  const read = await readThroughput(dir);
  const rec = await recoveryTime(dir);
  printTable(
    `Read and recovery (${RECOVERY_GIB} GiB log, 1 KiB records)`,
    ["measure", "value", "note"],
    [
      [
        "sequential read, 1 MiB fetches",
        `${fmt(read.mbps)} MB/s`,
        `${fmt(mb(read.bytes), 0)} MB read, CRC checked`,
      ],
      [
        "recovery, whole log in the tail segment (worst case)",
        `${fmt(rec.ms, 0)} ms`,
        rec.cold ? "page cache dropped first" : "page cache warm",
      ],
    ],
  );
}

try {
  await main();
} finally {
  await rm(root, { recursive: true, force: true });
}
