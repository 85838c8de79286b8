// The disk fills up under a real `spindle start` (an 8 MiB tmpfs, --disk-free-limit 0 so no alarm steps in
// first): AMQP publishers get basic.nack, Kafka producers a retriable KAFKA_STORAGE_ERROR; once a filler
// file is deleted both work again without a restart, and every confirmed message and acknowledged record is
// there, also after a restart. With a limit, the disk alarm rises from the write path before the disk is
// full, and throttles Kafka producers while it is on. Needs root to mount the tmpfs; skips otherwise.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import amqplib, { type ConfirmChannel } from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

const FS_BYTES = 8 * 1024 * 1024;
const BODY = Buffer.alloc(16 * 1024, "m");
const QUEUE = "full-q";
const TOPIC = "full-t";
const ARGS = ["--disk-free-limit", "0"];

const MiB = 1024 * 1024;

/** Mounts a tmpfs of FS_BYTES; returns its path, or why it cannot. */
function mountSmallFs(): { dir: string } | { why: string } {
  const dir = mkdtempSync(join(tmpdir(), "spindle-diskfull-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${FS_BYTES}`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status === 0) return { dir };
  rmdirSync(dir);
  return { why: `cannot mount a ${FS_BYTES}-byte tmpfs (${(r.stderr || r.error?.message || "").trim()})` };
}

/** Writes zeros to `path` until the filesystem is full (or `maxBytes`); returns the bytes written. */
function fill(path: string, maxBytes = Number.POSITIVE_INFINITY): number {
  const fd = openSync(path, "a");
  const chunk = Buffer.alloc(4096);
  let n = 0;
  try {
    while (n < maxBytes) n += writeSync(fd, chunk, 0, Math.min(chunk.length, maxBytes - n));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
  } finally {
    closeSync(fd);
  }
  return n;
}

/** Publishes `body` with a confirm: true on basic.ack, false on basic.nack. */
function publish(ch: ConfirmChannel, body: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    ch.sendToQueue(QUEUE, body, { persistent: true }, (err) => resolve(err === null || err === undefined));
  });
}

/** Retries `fn` until it returns true, up to `ms`. */
async function eventually(what: string, fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > until) assert.fail(`${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The error a kafkajs send failed with, unwrapped down to the broker's error type. */
function kafkaErrorType(e: unknown): { type: string; retriable: boolean } {
  let cur = e as { type?: string; retriable?: boolean; originalError?: unknown; cause?: unknown } | undefined;
  while (cur !== undefined && cur.type === undefined) cur = (cur.originalError ?? cur.cause) as typeof cur;
  return { type: cur?.type ?? String(e), retriable: cur?.retriable === true };
}

/** Every confirmed body is in the queue (drained with basic.get), and nothing else but nacked ones. */
async function checkQueue(url: string, confirmed: Set<string>, nacked: Set<string>): Promise<void> {
  const conn = await amqplib.connect(url);
  const ch = await conn.createChannel();
  const seen = new Set<string>();
  for (
    let m = await ch.get(QUEUE, { noAck: false });
    m !== false;
    m = await ch.get(QUEUE, { noAck: false })
  ) {
    const id = m.content.subarray(0, 16).toString();
    assert.ok(confirmed.has(id) || nacked.has(id), `unknown message ${id}`);
    assert.ok(!seen.has(id), `message ${id} twice`);
    seen.add(id);
  }
  for (const id of confirmed) assert.ok(seen.has(id), `confirmed message ${id} is in the queue`);
  await conn.close(); // unacked: every message stays for the next check
}

/** Every acknowledged record is in the topic at its offset. */
async function checkTopic(broker: string, acked: Map<number, string>): Promise<void> {
  const kafka = new Kafka({ clientId: "check", brokers: [broker], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `check-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const found = new Map<number, string>();
  const last = Math.max(...acked.keys());
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        found.set(Number(message.offset), message.value?.subarray(0, 16).toString() ?? "");
        if (Number(message.offset) >= last) resolve();
      },
    });
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
  clearTimeout(timer);
  await consumer.disconnect();
  for (const [offset, id] of acked) assert.equal(found.get(offset), id, `acknowledged record at ${offset}`);
}

const tag = (kind: string, i: number) => `${kind}-${String(i).padStart(10, "0")}`.padEnd(16, ".");

/** Runs `fn` with a fresh small filesystem (its data dir and a filler path); stops the brokers it started,
 *  unmounts. Skips the test, saying why, where no filesystem can be mounted. */
async function onSmallFs(
  t: TestContext,
  fn: (fs: {
    dataDir: string;
    filler: string;
    started: (s: SpindleProcess) => SpindleProcess;
  }) => Promise<void>,
): Promise<void> {
  const mounted = mountSmallFs();
  if ("why" in mounted) {
    t.skip(mounted.why);
    return;
  }
  const brokers: SpindleProcess[] = [];
  try {
    const started = (s: SpindleProcess) => {
      brokers.push(s);
      return s;
    };
    await fn({ dataDir: join(mounted.dir, "data"), filler: join(mounted.dir, "filler"), started });
  } finally {
    for (const b of brokers) await b.stop();
    spawnSync("umount", [mounted.dir]);
    rmSync(mounted.dir, { recursive: true, force: true });
  }
}

/** Fills the filesystem of `filler` until about `freeBytes` are left. */
function leaveFree(filler: string, freeBytes: number): void {
  const free = fill(filler);
  rmSync(filler);
  fill(filler, free - freeBytes);
}

test("a full disk: nacks and a retriable Kafka error, then both work again once space is freed, nothing confirmed lost", (t) =>
  onSmallFs(t, async ({ dataDir, filler, started }) => {
    let spindle = started(await startSpindle(ARGS, dataDir));
    const conn = await amqplib.connect(spindle.url);
    conn.on("error", () => undefined);
    const ch = await conn.createConfirmChannel();
    ch.on("error", () => undefined);
    await ch.assertQueue(QUEUE, { durable: true });
    const kafka = new Kafka({
      clientId: "t",
      brokers: [spindle.kafka],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();

    const confirmed = new Set<string>();
    const nacked = new Set<string>();
    const acked = new Map<number, string>();
    let sent = 0;
    const send = async (): Promise<boolean> => {
      const id = tag("amqp", sent++);
      const ok = await publish(ch, Buffer.concat([Buffer.from(id), BODY]));
      (ok ? confirmed : nacked).add(id);
      return ok;
    };
    const produce = async (i: number): Promise<unknown> => {
      const id = tag("kafka", i);
      try {
        const [r] = await producer.send({
          topic: TOPIC,
          acks: -1,
          messages: [{ value: Buffer.concat([Buffer.from(id), BODY]) }],
        });
        acked.set(Number(r?.baseOffset), id);
        return null;
      } catch (e) {
        return e;
      }
    };

    // 1. Leave about 1 MiB and publish and produce until the disk refuses both: basic.nack, and an error
    //    that kafkajs retries.
    leaveFree(filler, MiB);
    let produceError: unknown = null;
    for (let i = 0; i < 300 && (nacked.size === 0 || produceError === null); i++) {
      if (nacked.size === 0) await send();
      if (produceError === null) produceError = await produce(i);
    }
    assert.ok(nacked.size > 0, "a publish was nacked when the disk filled up");
    assert.ok(confirmed.size > 10, `only ${confirmed.size} confirmed before the disk was full`);
    assert.ok(acked.size > 10, `only ${acked.size} records acknowledged before the disk was full`);
    assert.deepEqual(kafkaErrorType(produceError), { type: "KAFKA_STORAGE_ERROR", retriable: true });

    // 2. Take whatever is left: both keep failing, and the broker keeps running.
    fill(`${filler}2`);
    assert.deepEqual(kafkaErrorType(await produce(1000)), { type: "KAFKA_STORAGE_ERROR", retriable: true });
    assert.equal(await send(), false, "a publish on a full disk is nacked");
    assert.equal(spindle.child.exitCode, null, "the broker keeps running");
    assert.match(spindle.stderr(), /disk full/);

    // 3. Free the space: publishing and producing work again, without a restart.
    rmSync(filler);
    rmSync(`${filler}2`);
    const freedAt = Date.now();
    await eventually("a publish is confirmed again", send);
    const publishMs = Date.now() - freedAt;
    let n = 2000;
    await eventually("a record is acknowledged again", async () => (await produce(n++)) === null);
    console.log(
      `# space freed: publishing again after ${publishMs} ms, producing after ${Date.now() - freedAt} ms`,
    );
    for (let i = 0; i < 20; i++) assert.ok(await send(), "later publishes are confirmed");
    await checkQueue(spindle.url, confirmed, nacked);
    await checkTopic(spindle.kafka, acked);
    await producer.disconnect();
    await conn.close();

    console.log(
      `# ${confirmed.size} publishes confirmed, ${nacked.size} nacked; ${acked.size} records acknowledged`,
    );
    // 4. And after a restart.
    await spindle.stop();
    spindle = started(await startSpindle(ARGS, dataDir));
    await checkQueue(spindle.url, confirmed, nacked);
    await checkTopic(spindle.kafka, acked);
  }));

test("the disk alarm rises from the write path, before a fast publisher fills the disk", (t) =>
  onSmallFs(t, async ({ dataDir, filler, started }) => {
    // 4 MiB free and a 3 MiB limit: the 1 MiB between is written in a few ms, well within one sampling second
    leaveFree(filler, 4 * MiB);
    const spindle = started(await startSpindle(["--disk-free-limit", String(3 * MiB)], dataDir));
    assert.doesNotMatch(spindle.stderr(), /disk alarm set/);
    const conn = await amqplib.connect(spindle.url);
    conn.on("error", () => undefined);
    const blocked = new Promise<unknown>((resolve) => conn.once("blocked", resolve));
    const ch = await conn.createChannel();
    await ch.assertQueue(QUEUE, { durable: true });
    const body = Buffer.alloc(64 * 1024, "f");
    for (let i = 0; i < 96; i++) ch.sendToQueue(QUEUE, body, { persistent: true }); // 6 MiB at once
    assert.equal(await blocked, "low on disk");
    await new Promise((r) => setTimeout(r, 500)); // what was read before the block is written
    assert.match(spindle.stderr(), /disk alarm set/);
    assert.doesNotMatch(
      spindle.stderr(),
      /ENOSPC/,
      "the alarm blocked the publisher before the disk was full",
    );
    await conn.close();
  }));

test("Kafka producers are throttled while the disk alarm is on, and produce at full speed once it clears", (t) =>
  onSmallFs(t, async ({ dataDir, filler, started }) => {
    leaveFree(filler, 2 * MiB);
    const spindle = started(await startSpindle(["--disk-free-limit", String(4 * MiB)], dataDir));
    assert.match(spindle.stderr(), /disk alarm set/);
    const kafka = new Kafka({ clientId: "t", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const timed = async (sends: number): Promise<number> => {
      const start = Date.now();
      for (let i = 0; i < sends; i++)
        await producer.send({ topic: TOPIC, acks: -1, messages: [{ value: "v" }] });
      return Date.now() - start;
    };
    const throttled = await timed(4);
    // each response asks for a 1 s pause before the next request (and the broker does not read meanwhile)
    assert.ok(throttled >= 2500, `4 produce requests took ${throttled} ms during the alarm`);

    rmSync(filler);
    await eventually("the alarm clears", async () => /disk alarm cleared/.test(spindle.stderr()), 5000);
    await new Promise((r) => setTimeout(r, 1100)); // the last throttle a response asked for
    const free = await timed(20);
    assert.ok(free < 1000, `20 produce requests took ${free} ms after the alarm cleared`);
    console.log(`# 4 sends during the alarm: ${throttled} ms; 20 sends after it: ${free} ms`);
    const offsets = await kafka.admin();
    await offsets.connect();
    assert.equal((await offsets.fetchTopicOffsets(TOPIC))[0]?.high, "24", "throttled records were appended");
    await offsets.disconnect();
    await producer.disconnect();
  }));
