// Integration tests for `spindle start`: the real process, real sockets, a real temp data dir.
// Invariant: no test assumes a default port, and every process a test starts is killed when it ends.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/spindle.js", import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL("../../package.json", import.meta.url));
const WAIT_MS = 30_000;
const READY = /^spindle ready pid=(\d+) amqp=(\S+):(\d+) kafka=(\S+):(\d+) http=(\S+):(\d+)$/;

const started = new Set<ChildProcess>();
const tempDirs: string[] = [];

after(() => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "spindle-cli-"));
  tempDirs.push(dir);
  return dir;
}

type Run = {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SPINDLE_")));
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...cleanEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  const r: Run = {
    child,
    stdout: "",
    stderr: "",
    exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal }))),
  };
  child.stdout?.setEncoding("utf8").on("data", (s: string) => (r.stdout += s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (r.stderr += s));
  return r;
}

/** Resolves with the exit status, or fails the test if the process outlives `WAIT_MS`. */
async function exitOf(r: Run): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${WAIT_MS} ms; stderr: ${r.stderr}`)), WAIT_MS);
  });
  try {
    return await Promise.race([r.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

type Ports = { pid: number; amqp: number; kafka: number; http: number; host: string };

/** Waits for the ready line; fails if the process exits or stays silent first. */
async function ready(r: Run): Promise<Ports> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const m = READY.exec(r.stdout.trimEnd());
    if (m)
      return { pid: Number(m[1]), host: m[2]!, amqp: Number(m[3]), kafka: Number(m[5]), http: Number(m[7]) };
    if (r.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no ready line; exit ${r.child.exitCode}; stdout: ${r.stdout}; stderr: ${r.stderr}`);
}

function startArgs(dataDir: string, extra: string[] = []): string[] {
  return [
    "start",
    "--data-dir",
    dataDir,
    "--amqp-port",
    "0",
    "--kafka-port",
    "0",
    "--http-port",
    "0",
    ...extra,
  ];
}

/** Asserts the process failed with exactly one stderr line and nothing on stdout. */
async function failsWithOneLine(r: Run, pattern: RegExp): Promise<string> {
  const { code } = await exitOf(r);
  assert.notEqual(code, 0, "exit code is non-zero");
  assert.ok(code !== null, "exited rather than killed");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one stderr line, got: ${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\bat .+:\d+:\d+/, "no stack trace");
  assert.equal(r.stdout, "", "nothing on stdout");
  return lines[0]!;
}

/** Reads what a listener sends until it closes the connection. */
function drain(port: number, send: Buffer | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1", () => socket.write(send ?? Buffer.alloc(0)));
    socket.on("data", (b) => chunks.push(b));
    socket.on("close", () => resolve(Buffer.concat(chunks)));
    socket.on("error", reject);
    socket.setTimeout(WAIT_MS, () => reject(new Error("listener kept the connection open")));
  });
}

function listenOnFreePort(): Promise<Server> {
  const server = createServer();
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe("spindle start", () => {
  test("prints one ready line, serves /healthz, exits 0 on SIGTERM and releases the lock", async () => {
    const dataDir = tempDir();
    const r = run(startArgs(dataDir));
    const ports = await ready(r);
    assert.equal(ports.pid, r.child.pid, "the ready line names the broker's pid");
    assert.equal(ports.host, "127.0.0.1");
    assert.ok(ports.amqp > 0 && ports.kafka > 0 && ports.http > 0, "real ports, not 0");
    assert.equal(new Set([ports.amqp, ports.kafka, ports.http]).size, 3, "three distinct ports");
    assert.equal(readFileSync(join(dataDir, "LOCK"), "utf8").trim(), String(r.child.pid));

    const res = await fetch(`http://127.0.0.1:${ports.http}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok" });

    // An AMQP 1.0 header gets the 0-9-1 header back and a close, as the AMQP spec asks.
    const amqpReply = await drain(ports.amqp, Buffer.from("AMQP\x00\x01\x00\x00", "latin1"));
    assert.deepEqual(
      amqpReply,
      Buffer.from("AMQP\x00\x00\x09\x01", "latin1"),
      "AMQP listener answers its header",
    );
    const oversize = Buffer.from([0x7f, 0xff, 0xff, 0xff]);
    assert.equal(
      (await drain(ports.kafka, oversize)).length,
      0,
      "Kafka closes on a frame over the size limit",
    );

    r.child.kill("SIGTERM");
    const { code } = await exitOf(r);
    assert.equal(code, 0);
    assert.equal(existsSync(join(dataDir, "LOCK")), false, "LOCK removed");
    assert.equal(r.stdout.split("\n").filter((l) => l !== "").length, 1, "stdout holds only the ready line");
    assert.doesNotMatch(r.stderr, /spindle ready/, "the ready line is not on stderr");
  });

  test("exits 0 on SIGINT too", async () => {
    const r = run(startArgs(tempDir()));
    await ready(r);
    r.child.kill("SIGINT");
    assert.equal((await exitOf(r)).code, 0);
  });

  test("takes its settings from SPINDLE_* env vars", async () => {
    const dataDir = tempDir();
    const r = run(["start"], {
      SPINDLE_DATA_DIR: dataDir,
      SPINDLE_AMQP_PORT: "0",
      SPINDLE_KAFKA_PORT: "0",
      SPINDLE_HTTP_PORT: "0",
    });
    await ready(r);
    assert.ok(existsSync(join(dataDir, "LOCK")), "the env data dir is used");
    r.child.kill("SIGTERM");
    assert.equal((await exitOf(r)).code, 0);
  });

  test("a taken port gives one line naming the port and its flag", async () => {
    const blocker = await listenOnFreePort();
    try {
      const port = (blocker.address() as { port: number }).port;
      const dataDir = tempDir();
      const r = run([
        "start",
        "--data-dir",
        dataDir,
        "--amqp-port",
        "0",
        "--http-port",
        "0",
        "--kafka-port",
        `${port}`,
      ]);
      const line = await failsWithOneLine(r, /--kafka-port/);
      assert.match(
        line,
        new RegExp(`^spindle: cannot listen on 127\\.0\\.0\\.1:${port} \\(address in use\\)`),
      );
      assert.equal(existsSync(join(dataDir, "LOCK")), false, "LOCK released after the failed start");
    } finally {
      blocker.close();
    }
  });

  test("an unwritable data dir gives one line", async () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "not a directory");
    const line = await failsWithOneLine(run(startArgs(join(file, "data"))), /^spindle: .*data directory/);
    assert.ok(line.includes(file), "names the path");
  });

  test("a second broker on the same data dir fails naming the first one's pid", async () => {
    const dataDir = tempDir();
    const first = run(startArgs(dataDir));
    await ready(first);
    const second = run(startArgs(dataDir));
    await failsWithOneLine(second, new RegExp(`in use by another broker \\(pid ${first.child.pid}\\)`));
    first.child.kill("SIGTERM");
    assert.equal((await exitOf(first)).code, 0);
  });

  test("an invalid flag value gives one line", async () => {
    await failsWithOneLine(run(startArgs(tempDir(), ["--fsync", "sometimes"])), /^spindle: --fsync: /);
  });

  test("--log-level silences what is below it; SPINDLE_LOG_LEVEL too", async () => {
    const chatty = run(startArgs(tempDir()));
    await ready(chatty);
    chatty.child.kill("SIGTERM");
    assert.equal((await exitOf(chatty)).code, 0);
    assert.match(chatty.stderr, /"msg":"spindle started"/, "info is logged by default");

    for (const r of [
      run(startArgs(tempDir(), ["--log-level", "warn"])),
      run(startArgs(tempDir()), { SPINDLE_LOG_LEVEL: "silent" }),
    ]) {
      await ready(r);
      r.child.kill("SIGTERM");
      assert.equal((await exitOf(r)).code, 0);
      assert.equal(r.stderr, "", "nothing below warn is logged");
    }
  });

  test("an invalid log level gives one line", async () => {
    await failsWithOneLine(
      run(startArgs(tempDir(), ["--log-level", "loud"])),
      /^spindle: --log-level: invalid log level "loud": use one of fatal, error/,
    );
  });

  test("a host beyond loopback is refused in one line while nothing authenticates", async () => {
    const dataDir = join(tempDir(), "data");
    const line = await failsWithOneLine(run(startArgs(dataDir, ["--host", "0.0.0.0"])), /--insecure/);
    assert.equal(
      line,
      "spindle: --host 0.0.0.0 exposes the broker with no authentication (guest/guest); pass --insecure to allow it, or bind 127.0.0.1",
    );
    assert.equal(existsSync(dataDir), false, "refused before the data dir is touched");
    await failsWithOneLine(
      run(startArgs(tempDir()), { SPINDLE_HOST: "::" }),
      /^spindle: SPINDLE_HOST=:: exposes the broker .*set SPINDLE_INSECURE=true/,
    );
  });

  test("--insecure lets it bind beyond loopback and logs a warning", async () => {
    const r = run(startArgs(tempDir(), ["--host", "0.0.0.0", "--insecure"]));
    const ports = await ready(r);
    assert.equal(ports.host, "0.0.0.0");
    const res = await fetch(`http://127.0.0.1:${ports.http}/healthz`);
    assert.equal(res.status, 200);
    assert.match(r.stderr, /"level":40.*no authentication \(--insecure\)/);
    r.child.kill("SIGTERM");
    assert.equal((await exitOf(r)).code, 0);
  });

  test("an unknown flag gives one line", async () => {
    await failsWithOneLine(run(["start", "--no-such-flag"]), /^spindle: unknown option '--no-such-flag'/);
  });
});

describe("spindle --help and --version", () => {
  test("--help prints usage and exits 0", async () => {
    const r = run(["--help"]);
    assert.equal((await exitOf(r)).code, 0);
    assert.match(r.stdout, /Usage: spindle/);
    assert.match(r.stdout, /start/);
  });

  test("start --help lists every flag and exits 0", async () => {
    const r = run(["start", "--help"]);
    assert.equal((await exitOf(r)).code, 0);
    for (const flag of [
      "--data-dir",
      "--host",
      "--amqp-port",
      "--kafka-port",
      "--http-port",
      "--fsync",
      "--log-level",
      "--insecure",
      "--config",
    ]) {
      assert.ok(r.stdout.includes(flag), `help names ${flag}`);
    }
  });

  test("--version prints the broker package's version and exits 0", async () => {
    const { version } = JSON.parse(readFileSync(PACKAGE_JSON, "utf8")) as { version: string };
    const r = run(["--version"]);
    assert.equal((await exitOf(r)).code, 0);
    assert.equal(r.stdout.trim(), version);
  });
});
