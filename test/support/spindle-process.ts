// Starts the real `spindle start` process on free ports, for integration, conformance, crash and bench runs.
// Invariant: every process started here is killed by its pid and every temp data dir removed when the run ends.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../packages/broker/bin/spindle.js", import.meta.url));
const READY = /spindle ready pid=\d+ amqp=(\S+):(\d+) kafka=(\S+):(\d+) http=(\S+):(\d+)/;
const START_TIMEOUT_MS = 30_000;

export interface SpindleProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  /** AMQP port, and the URL an AMQP client connects to (guest/guest) */
  readonly port: number;
  readonly url: string;
  /** Kafka bootstrap address, host:port */
  readonly kafka: string;
  /** HTTP address, host:port */
  readonly http: string;
  /** resolves once the process has exited, however it ended */
  readonly exited: Promise<void>;
  stderr(): string;
  /** SIGTERM (SIGKILL when `hard`) and wait for the exit; the data dir stays for a restart. */
  stop(hard?: boolean): Promise<void>;
}

const running = new Set<ChildProcess>();
const tempDirs: string[] = [];
process.on("exit", () => {
  for (const c of running) c.kill("SIGKILL");
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

/** A data dir removed when this process exits. */
export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "spindle-test-"));
  tempDirs.push(dir);
  return dir;
}

export interface StartOptions {
  /** the open-file limit (`ulimit -n`, soft and hard) the broker runs under */
  readonly fdLimit?: number;
  /** options for node itself, before the script (e.g. `--cpu-prof`, which NODE_OPTIONS does not take) */
  readonly nodeArgs?: readonly string[];
  /** another build's `bin/spindle.js` (a bench comparing a change with main's build in one run) */
  readonly bin?: string;
}

/** The command that runs `argv`, under `ulimit -n` when asked (bash execs node, so the pid is the broker's). */
function command(argv: string[], opts: StartOptions): [string, string[]] {
  if (opts.fdLimit === undefined) return [process.execPath, argv];
  return ["bash", ["-c", `ulimit -n ${opts.fdLimit} && exec "$0" "$@"`, process.execPath, ...argv]];
}

/** Starts a broker on a new temp data dir, or on `dataDir` (to restart over the same data). */
export async function startSpindle(
  args: string[] = [],
  dataDir = tempDataDir(),
  opts: StartOptions = {},
): Promise<SpindleProcess> {
  // The test's own SPINDLE_* environment must not change the broker under test.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SPINDLE_")));
  const ports = ["--amqp-port", "0", "--kafka-port", "0", "--http-port", "0"];
  const [file, argv] = command(
    [...(opts.nodeArgs ?? []), opts.bin ?? BIN, "start", "--data-dir", dataDir, ...ports, ...args],
    opts,
  );
  const child = spawn(file, argv, {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  let out = "";
  let err = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (err += s));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`spindle did not start: ${err}`)), START_TIMEOUT_MS);
    child.stdout?.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      const ready = READY.exec(out);
      if (ready) {
        clearTimeout(timer);
        resolve(ready);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`spindle exited with ${code} before it was ready: ${err}`));
    });
  });
  const port = Number(m[2]);
  const stop = async (hard = false) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(hard ? "SIGKILL" : "SIGTERM");
    await exited;
    running.delete(child);
  };
  return {
    child,
    dataDir,
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    kafka: `${m[3]}:${m[4]}`,
    http: `${m[5]}:${m[6]}`,
    exited,
    stderr: () => err,
    stop,
  };
}
