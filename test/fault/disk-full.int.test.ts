// The disk fills up under a real `spindle start` (an 8 MiB tmpfs, --disk-free-limit 0 so no alarm steps in
// first): AMQP publishers get basic.nack, Kafka producers a retriable KAFKA_STORAGE_ERROR; once a filler
// file is deleted both work again without a restart, and every confirmed message and acknowledged record is
// there, also after a restart. Needs root to mount the tmpfs; skips with the reason otherwise.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import amqplib, { type ConfirmChannel } from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

const FS_BYTES = 8 * 1024 * 1024;
const BODY = Buffer.alloc(16 * 1024, "m");
const QUEUE = "full-q";
const TOPIC = "full-t";
const ARGS = ["--disk-free-limit", "0"];

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

test("a full disk: nacks and a retriable Kafka error, then both work again once space is freed, nothing confirmed lost", async (t) => {
  const mounted = mountSmallFs();
  if ("why" in mounted) {
    t.skip(mounted.why);
    return;
  }
  const dataDir = join(mounted.dir, "data");
  const filler = join(mounted.dir, "filler");
  let spindle: SpindleProcess | undefined;
  try {
    spindle = await startSpindle(ARGS, dataDir);
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
    const kept = fill(filler);
    rmSync(filler);
    fill(filler, kept - 1024 * 1024);
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
    await eventually("a publish is confirmed again", send);
    let n = 2000;
    await eventually("a record is acknowledged again", async () => (await produce(n++)) === null);
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
    spindle = await startSpindle(ARGS, dataDir);
    await checkQueue(spindle.url, confirmed, nacked);
    await checkTopic(spindle.kafka, acked);
  } finally {
    await spindle?.stop();
    spawnSync("umount", [mounted.dir]);
    rmSync(mounted.dir, { recursive: true, force: true });
  }
});
