// Starts `spindle start` as a real child process on free ports with a temp data dir, for conformance runs.
// Invariant: the child is killed by its pid when the run ends, and its data dir removed.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../../packages/broker/bin/spindle.js", import.meta.url));
const READY = /spindle ready amqp=(\S+):(\d+) /;

export interface SpindleProcess {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  readonly dataDir: string;
  /** resolves when the process has exited (however it ended) */
  readonly exited: Promise<void>;
  /** SIGTERM, wait for exit, remove the data dir */
  stop(): Promise<void>;
}

/** Starts a broker on a new temp data dir, or on `dir` (to restart over the same data). */
export async function startSpindle(
  extraArgs: string[] = [],
  dir = mkdtempSync(join(tmpdir(), "spindle-conf-")),
): Promise<SpindleProcess> {
  const child = spawn(
    process.execPath,
    [
      BIN,
      "start",
      "--data-dir",
      dir,
      "--amqp-port",
      "0",
      "--kafka-port",
      "0",
      "--http-port",
      "0",
      ...extraArgs,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`spindle did not start: ${out}`)), 30_000);
    child.stdout?.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      const m = READY.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[2]));
      }
    });
    child.once("exit", (code) => reject(new Error(`spindle exited with ${code}`)));
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      process.kill(child.pid as number, "SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { port, url: `amqp://guest:guest@127.0.0.1:${port}`, child, dataDir: dir, exited, stop };
}
