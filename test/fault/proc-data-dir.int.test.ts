// `spindle start --data-dir` on a file system like /proc: mkdir there fails with ENOENT although the parent
// exists, and Node's recursive mkdir retried that forever. Invariant checked: the process exits non-zero
// within a couple of seconds with one line naming the directory.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../packages/broker/bin/spindle.js", import.meta.url));
const EXIT_WITHIN_MS = 3000;

test("a data dir under /proc fails fast with one line", { skip: process.platform !== "linux" }, async () => {
  const dataDir = `/proc/spindle-test-${process.pid}/data`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SPINDLE_")));
  const child = spawn(
    process.execPath,
    [BIN, "start", "--data-dir", dataDir, "--amqp-port", "0", "--kafka-port", "0", "--http-port", "0"],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const started = Date.now();
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(null);
    }, EXIT_WITHIN_MS);
    child.once("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.notEqual(code, null, `still running after ${EXIT_WITHIN_MS} ms`);
  assert.notEqual(code, 0);
  assert.ok(Date.now() - started < EXIT_WITHIN_MS);
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] as string, /data directory \/proc\/spindle-test-\d+\/data/);
});
