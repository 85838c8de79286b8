// Test helper: starts the real `spindle start` process on free ports and stops it by pid.
// Invariant: every process started here is killed (SIGKILL if need be) when its test file ends.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../../bin/spindle.js", import.meta.url));
const READY = /spindle ready amqp=\S+ kafka=(\S+):(\d+) http=\S+/;

export interface SpindleProcess {
  readonly child: ChildProcess;
  readonly kafka: string;
  readonly dataDir: string;
  stderr(): string;
  /** SIGTERM and wait for exit (SIGKILL when `hard`). */
  stop(hard?: boolean): Promise<void>;
}

const running = new Set<ChildProcess>();
const dirs: string[] = [];
process.on("exit", () => {
  for (const c of running) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "spindle-kafka-"));
  dirs.push(dir);
  return dir;
}

export async function startSpindle(args: string[] = [], dataDir = tempDataDir()): Promise<SpindleProcess> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SPINDLE_")));
  const child = spawn(
    process.execPath,
    [
      BIN,
      "start",
      "--data-dir",
      dataDir,
      "--amqp-port",
      "0",
      "--kafka-port",
      "0",
      "--http-port",
      "0",
      ...args,
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  running.add(child);
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (err += s));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 30_000;
  let m = READY.exec(out);
  while (m === null) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`spindle did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
    m = READY.exec(out);
  }
  const stop = async (hard = false) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(hard ? "SIGKILL" : "SIGTERM");
    await exited;
    running.delete(child);
  };
  return { child, kafka: `${m[1]}:${m[2]}`, dataDir, stderr: () => err, stop };
}
