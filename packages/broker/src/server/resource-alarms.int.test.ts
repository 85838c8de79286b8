// Resource alarms end to end: the real `spindle start` with --disk-free-limit / --memory-high-watermark,
// amqplib publishers and consumers. Invariant: a test fills the disk only with a file it removes itself.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import type { EventEmitter } from "node:events";
import { readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import amqplib from "amqplib";
import { type SpindleProcess, startSpindle, tempDataDir } from "../../../../test/support/spindle-process.ts";

const WAIT_MS = 10_000;

/** Resolves with the event's first argument, or rejects after `ms`. */
function nextEvent(emitter: EventEmitter, event: string, ms = WAIT_MS): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    emitter.once(event, (arg: unknown) => {
      clearTimeout(timer);
      resolve(arg);
    });
  });
}

/** True if `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  const settled = p.then(
    () => true,
    () => true,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function connect(url: string) {
  const conn = await amqplib.connect(url);
  conn.on("error", () => undefined);
  const blocked: unknown[] = [];
  conn.on("blocked", (reason: unknown) => blocked.push(reason));
  return { conn, blocked };
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** Free bytes on the filesystem holding `dir`, as the broker measures them. */
function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Takes `bytes` of real disk space at `path` (fallocate, else written zeros). */
function fill(path: string, bytes: number): void {
  if (spawnSync("fallocate", ["-l", String(bytes), path]).status === 0) return;
  writeFileSync(path, Buffer.alloc(0));
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  for (let done = 0; done < bytes; done += chunk.length) writeFileSync(path, chunk, { flag: "a" });
}

test("disk alarm on from the start: publishers are blocked with 'low on disk', consumers drain the queue", async () => {
  const first = await startSpindle();
  const setup = await connect(first.url);
  const ch = await setup.conn.createConfirmChannel();
  await ch.assertQueue("alarm-q", { durable: true });
  for (let i = 0; i < 5; i++) ch.sendToQueue("alarm-q", Buffer.from(`m${i}`), { persistent: true });
  await ch.waitForConfirms();
  await setup.conn.close();
  await first.stop();

  const spindle = await startSpindle(["--disk-free-limit", "1000TB"], first.dataDir);
  try {
    assert.equal(count(spindle.stderr(), "disk alarm set"), 1);
    const consumer = await connect(spindle.url);
    const cch = await consumer.conn.createChannel();
    const got: string[] = [];
    const all = new Promise<void>((resolve) => {
      void cch.consume("alarm-q", (m) => {
        if (m === null) return;
        got.push(m.content.toString());
        cch.ack(m);
        if (got.length === 5) resolve();
      });
    });

    const publisher = await connect(spindle.url);
    const pch = await publisher.conn.createChannel();
    const blocked = nextEvent(publisher.conn, "blocked");
    pch.sendToQueue("alarm-q", Buffer.from("while blocked"));
    assert.equal(await blocked, "low on disk");

    await all;
    assert.deepEqual(got.slice(0, 5), ["m0", "m1", "m2", "m3", "m4"]);
    // the consumer's connection is still read and answered; the publisher's is not
    assert.equal((await cch.checkQueue("alarm-q")).queue, "alarm-q");
    assert.equal(await settlesWithin(pch.checkQueue("alarm-q"), 1000), false);
    assert.deepEqual(consumer.blocked, []);
    assert.deepEqual(publisher.blocked, ["low on disk"]);

    await consumer.conn.close();
    await publisher.conn.close(); // amqplib closes a blocked connection at once
  } finally {
    await spindle.stop();
  }
});

test("memory alarm: a publisher whose messages the broker holds past the watermark is blocked with 'low on memory'", async () => {
  const spindle = await startSpindle(["--memory-high-watermark", "1MB"]);
  try {
    assert.equal(count(spindle.stderr(), "memory alarm set"), 0, "an idle broker holds nothing");
    const publisher = await connect(spindle.url);
    const ch = await publisher.conn.createChannel();
    await ch.assertQueue("mem-q");
    const blocked = nextEvent(publisher.conn, "blocked");
    ch.sendToQueue("mem-q", Buffer.alloc(2_000_000));
    assert.equal(await blocked, "low on memory");
    await publisher.conn.close();
  } finally {
    await spindle.stop();
  }
});

/** The broker's resident set, as the kernel counts it. */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

test("memory alarm clears once a burst is drained, while RSS stays above the watermark", async () => {
  const watermark = 32_000_000;
  const spindle = await startSpindle(["--memory-high-watermark", String(watermark)]);
  try {
    const publisher = await connect(spindle.url);
    const blocked = nextEvent(publisher.conn, "blocked");
    const pch = await publisher.conn.createConfirmChannel();
    await pch.assertQueue("burst-q");
    const n = 64;
    const confirmed = Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve, reject) =>
          pch.sendToQueue("burst-q", Buffer.alloc(1024 * 1024), {}, (err) => (err ? reject(err) : resolve())),
        ),
    );
    for (const c of confirmed) c.catch(() => undefined); // awaited below; a failure must not hide the cause
    assert.equal(await blocked, "low on memory", "the burst held in the queue's window raises the alarm");
    const unblocked = nextEvent(publisher.conn, "unblocked");
    let rssAtUnblock = 0;
    void unblocked.then(
      () => {
        rssAtUnblock = rssOf(spindle.child.pid as number);
      },
      () => undefined,
    );

    const consumer = await connect(spindle.url);
    const cch = await consumer.conn.createChannel();
    let got = 0;
    const all = new Promise<void>((resolve) => {
      void cch.consume("burst-q", (m) => {
        if (m === null) return;
        cch.ack(m);
        if (++got === n) resolve();
      });
    });
    await unblocked; // within 10 s of being drained
    assert.ok(
      rssAtUnblock > watermark,
      `RSS ${rssAtUnblock} is still above the watermark ${watermark}: the alarm followed released memory`,
    );
    await all;
    await Promise.all(confirmed);
    assert.ok(count(spindle.stderr(), "memory alarm cleared") >= 1);
    await consumer.conn.close();
    await publisher.conn.close();
  } finally {
    await spindle.stop();
  }
});

test("the disk alarm clears: connection.unblocked, and held publishes are confirmed", async (t) => {
  const dataDir = tempDataDir();
  const margin = 1024 ** 3; // room for other tests' writes on the same filesystem during this one
  const free = freeBytes(dataDir);
  if (free < 4 * margin) {
    t.skip(`needs 4 GiB free on ${dataDir}`);
    return;
  }
  const filler = join(tempDataDir(), "filler");
  let spindle: SpindleProcess | undefined;
  try {
    spindle = await startSpindle(["--disk-free-limit", String(free - margin)], dataDir);
    assert.equal(count(spindle.stderr(), "disk alarm set"), 0);
    const publisher = await connect(spindle.url);
    const unblocked = nextEvent(publisher.conn, "unblocked");
    unblocked.catch(() => undefined);
    const ch = await publisher.conn.createConfirmChannel();
    await ch.assertQueue("clear-q");
    ch.sendToQueue("clear-q", Buffer.from("before"));
    await ch.waitForConfirms(); // now a publisher

    const blocked = nextEvent(publisher.conn, "blocked");
    fill(filler, 2 * margin);
    assert.equal(await blocked, "low on disk");
    const held = new Promise<void>((resolve, reject) =>
      ch.sendToQueue("clear-q", Buffer.from("held"), {}, (err) => (err ? reject(err) : resolve())),
    );
    assert.equal(await settlesWithin(held, 1000), false, "not read while blocked");

    rmSync(filler, { force: true });
    await unblocked;
    await held;
    const q = await ch.checkQueue("clear-q");
    assert.equal(q.messageCount, 2);
    assert.deepEqual(publisher.blocked, ["low on disk"]);
    assert.equal(count(spindle.stderr(), "disk alarm set"), 1);
    assert.equal(count(spindle.stderr(), "disk alarm cleared"), 1);
    await publisher.conn.close();
  } finally {
    rmSync(filler, { force: true });
    await spindle?.stop();
  }
});
