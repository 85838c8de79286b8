// Exactly-once consume-transform-produce with librdkafka (python3-confluent-kafka, eos_processor.py)
// against a real spindle process: N input records become exactly N output records under read_committed,
// and the group's committed offsets cover exactly the input — also when the broker is SIGKILLed in the
// middle and a second processor with the same transactional id starts beside the first (fencing it).
// Invariant: only unmodified clients and the broker's own process; the checks read what a consumer reads.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle, tempDataDir } from "../support/spindle-process.ts";

const SCRIPT = fileURLToPath(new URL("eos_processor.py", import.meta.url));
const PARTITIONS = 3;
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function python(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number; out: string; err: string }>;
} {
  const child = spawn("/usr/bin/python3", [SCRIPT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (err += s));
  const done = new Promise<{ code: number; out: string; err: string }>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      resolve({ code: code ?? -1, out, err });
    }),
  );
  return { child, done };
}

async function produceInput(bootstrap: string, topic: string, n: number): Promise<void> {
  const kafka = new Kafka({ clientId: "eos-in", brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < n; i += 500) {
    const messages = Array.from({ length: Math.min(500, n - i) }, (_, j) => ({
      key: `k${i + j}`,
      value: `in-${i + j}`,
    }));
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

async function committedTotal(bootstrap: string, group: string, topic: string): Promise<number> {
  const kafka = new Kafka({ clientId: "eos-check", brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (t?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

async function readCommitted(bootstrap: string, topic: string): Promise<string[]> {
  const r = await python(["read", bootstrap, topic, String(PARTITIONS)]).done;
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out) as string[];
}

function assertExactlyOnce(values: string[], n: number): void {
  const distinct = new Set(values);
  assert.equal(distinct.size, values.length, `${values.length - distinct.size} duplicates in the output`);
  assert.equal(values.length, n, `${values.length} outputs for ${n} inputs`);
  for (let i = 0; i < n; i++) assert.ok(distinct.has(`out-in-${i}`), `out-in-${i} missing`);
}

interface Run {
  spindle: SpindleProcess;
  bootstrap: string;
}

/** Runs processors until the group has committed all `n` inputs (a processor that gave up is replaced). */
async function processAll(
  run: Run,
  n: number,
  names: { src: string; dst: string; group: string; txid: string },
) {
  for (let attempt = 0; attempt < 6; attempt++) {
    const r = await python(["process", run.bootstrap, names.src, names.dst, names.group, names.txid]).done;
    if ((await committedTotal(run.bootstrap, names.group, names.src)) >= n) return;
    if (r.code !== 0 && r.code !== 2) assert.fail(`processor exited ${r.code}: ${r.err}`);
  }
  assert.fail("the input was never all committed");
}

test("N inputs become exactly N read_committed outputs, with the offsets committed", async () => {
  const spindle = await startSpindle(["--default-partitions", String(PARTITIONS)]);
  try {
    const n = 1500;
    const names = { src: "eos-in", dst: "eos-out", group: "eos-group", txid: "eos-tx" };
    await produceInput(spindle.kafka, names.src, n);
    await processAll({ spindle, bootstrap: spindle.kafka }, n, names);
    assert.equal(await committedTotal(spindle.kafka, names.group, names.src), n);
    assertExactlyOnce(await readCommitted(spindle.kafka, names.dst), n);
  } finally {
    await spindle.stop();
  }
});

test("SIGKILL of the broker mid-way and a second processor that fences the first: still exactly N", async () => {
  const port = await freePort();
  const dataDir = tempDataDir();
  const args = ["--kafka-port", String(port), "--default-partitions", String(PARTITIONS)];
  let spindle = await startSpindle(args, dataDir);
  const bootstrap = spindle.kafka;
  try {
    const n = 3000;
    const names = { src: "kill-in", dst: "kill-out", group: "kill-group", txid: "kill-tx" };
    await produceInput(bootstrap, names.src, n);
    // idle for long enough to outlive the broker's restart: it must be fenced, not leave on its own
    const first = python(["process", bootstrap, names.src, names.dst, names.group, names.txid, "20"]);
    // kill while transactions are being committed
    const t0 = Date.now();
    while ((await committedTotal(bootstrap, names.group, names.src)) < 300) {
      assert.ok(Date.now() - t0 < 60_000, "the processor made no progress");
      await new Promise((r) => setTimeout(r, 100));
    }
    await spindle.stop(true);
    spindle = await startSpindle(args, dataDir);
    // the replacement's init_transactions fences the first instance, which is still running
    const second = python(["process", bootstrap, names.src, names.dst, names.group, names.txid]);
    const [a, b] = await Promise.all([first.done, second.done]);
    // fenced: by the epoch bump of its transaction aborted at the restart, or by the second's init
    assert.equal(a.code, 2, a.err);
    assert.match(a.err, /fenced/i);
    assert.ok(b.code === 0 || b.code === 2, b.err);
    await processAll({ spindle, bootstrap }, n, names);
    assert.equal(await committedTotal(bootstrap, names.group, names.src), n);
    assertExactlyOnce(await readCommitted(bootstrap, names.dst), n);
  } finally {
    await spindle.stop();
  }
});
