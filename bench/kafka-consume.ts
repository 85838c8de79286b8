// bench:kafka's consume runs: kcat reading partition 0 of a topic from the beginning to its end (-e) as a new
// user would (librdkafka's default fetch sizes), with its own CPU (user + sys) and minor page faults from GNU
// time, the server's CPU, and its offsets checked: every record once, in order.

import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const TIME = "/usr/bin/time";

/**
 * librdkafka's defaults (1 MiB per partition, 50 MB per fetch) except fetch.wait.max.ms: it only shortens the
 * last, empty fetch that tells kcat it reached the end (-e); with librdkafka's default 500 ms long poll, that
 * wait alone would be a large part of the measured time.
 */
export const CONSUME_ARGS = [
  "-C",
  "-o",
  "beginning",
  "-e",
  "-q",
  "-f",
  "%o\\n",
  "-X",
  "fetch.wait.max.ms=10",
];

export interface ConsumeRun {
  seconds: number;
  /** kcat's user + sys CPU, and its sys part (ms); null without GNU time */
  clientCpuMs: number | null;
  clientSysMs: number | null;
  minorFaults: number | null;
  /** the server's CPU while kcat ran (ms) */
  serverCpuMs: number;
}

/**
 * One run of kcat consuming all `records` of `topic` from the broker at `address`; `serverCpuMs` reads the
 * server's CPU so far (ms). kcat's output goes to a file, not through a pipe to this process: 1M offset lines
 * read by the bench made the figure swing 326-787 MB/s (the bench competing with kcat and the broker for 2
 * cores) against 870-985 MB/s with the output in a file. The replay server runs in this process, so kcat is
 * spawned, not run synchronously.
 */
export async function consumeRun(
  address: string,
  topic: string,
  records: number,
  dir: string,
  serverCpuMs: () => number,
): Promise<ConsumeRun> {
  const out = join(dir, "offsets.txt");
  const times = join(dir, "kcat-time.txt");
  const kcat = ["kcat", "-b", address, "-t", topic, ...CONSUME_ARGS];
  const timed = existsSync(TIME);
  const [cmd, ...args] = timed ? [TIME, "-f", "%U %S %R", "-o", times, ...kcat] : kcat;
  const fd = openSync(out, "w");
  const cpu0 = serverCpuMs();
  const t0 = performance.now();
  const child = spawn(cmd as string, args, { stdio: ["ignore", fd, "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  const seconds = (performance.now() - t0) / 1000;
  const serverMs = serverCpuMs() - cpu0;
  closeSync(fd);
  if (code !== 0) throw new Error(`kcat consume from ${address} failed (${code}): ${stderr}`);
  checkOffsets(out, records);
  rmSync(out);
  let clientCpuMs: number | null = null;
  let clientSysMs: number | null = null;
  let minorFaults: number | null = null;
  if (timed) {
    // "0.44 0.34 13454": user s, sys s, minor faults (the last line; an exit status note would come first)
    const [user, sys, faults] = readFileSync(times, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
    clientCpuMs = ((user ?? 0) + (sys ?? 0)) * 1000;
    clientSysMs = (sys ?? 0) * 1000;
    minorFaults = faults ?? null;
    rmSync(times);
  }
  return { seconds, clientCpuMs, clientSysMs, minorFaults, serverCpuMs: serverMs };
}

/** Every record was consumed once, in order: the file of offsets kcat printed holds 0 .. records - 1. */
function checkOffsets(path: string, records: number): void {
  const offsets = readFileSync(path, "utf8").trimEnd().split("\n");
  const wrong = offsets.findIndex((o, i) => Number(o) !== i);
  if (offsets.length !== records || wrong !== -1) {
    throw new Error(
      `consume read ${offsets.length} records (first wrong at line ${wrong}), ${records} expected`,
    );
  }
}

/** Median (the mean of the middle two for an even count), min and max. */
export function spread(values: number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
  return { median, min: s[0] as number, max: s[s.length - 1] as number };
}
