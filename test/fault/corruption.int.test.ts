// Damage on disk under a real `spindle` process: a flipped byte in a sealed segment of a queue and of a
// partition, a missing segment file, a queue tail truncated to 0, a flipped byte in the meta change log.
// Each is found, named (file and position) in the broker's log, and everything intact stays readable.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import amqplib from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { parseScrape, value } from "../support/prometheus.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

const hasKcat = spawnSync("kcat", ["-V"]).status === 0;

function queueDir(dataDir: string, queue: string): string {
  const hash = createHash("sha256").update(queue).digest("hex").slice(0, 40);
  return join(dataDir, "queues", hash, "messages");
}

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".log"))
    .sort()
    .map((f) => join(dir, f));
}

/** File positions of the batches in a segment file. */
function batchPositions(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let pos = 0; pos + 12 <= bytes.length; pos += 12 + bytes.readInt32BE(pos + 8)) out.push(pos);
  return out;
}

/** Flips one bit inside the records of batch `n` of `file` (not in its header); returns its position and offset. */
function flipInBatch(file: string, n: number): { position: number; offset: number } {
  const bytes = readFileSync(file);
  const position = batchPositions(bytes)[n]!;
  const size = 12 + bytes.readInt32BE(position + 8);
  bytes[position + size - 7]! ^= 0x20;
  writeFileSync(file, bytes);
  return { position, offset: Number(bytes.readBigInt64BE(position)) };
}

/** The broker's JSON log lines (pino writes them to stderr here). */
function logLines(sp: SpindleProcess): Record<string, unknown>[] {
  return sp
    .stderr()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    assert.ok(Date.now() < until, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("damage on disk, on a real broker", () => {
  it("a queue skips a damaged message in a sealed segment, counts it, and serves every other one", async () => {
    const first = await startSpindle();
    let conn = await amqplib.connect(first.url);
    const pub = await conn.createConfirmChannel();
    await pub.assertQueue("damaged-q", { durable: true });
    // 1 MiB messages: queue segments roll at 64 MiB, so 140 of them seal two segments
    const total = 140;
    const pad = Buffer.alloc(1024 * 1024 - 16, 0x61);
    for (let i = 0; i < total; i++) {
      pub.sendToQueue("damaged-q", Buffer.concat([Buffer.from(String(i).padStart(16)), pad]), {
        persistent: true,
      });
      if (i % 8 === 7) await pub.waitForConfirms();
    }
    await pub.waitForConfirms();
    await conn.close();
    await first.stop();

    const segments = segmentFiles(queueDir(first.dataDir, "damaged-q"));
    assert.ok(segments.length >= 3, `sealed segments: ${segments.length - 1}`);
    const damaged = flipInBatch(segments[1]!, 4); // one message per batch: offset 67

    const sp = await startSpindle([], first.dataDir);
    conn = await amqplib.connect(sp.url);
    const ch = await conn.createChannel();
    const got: number[] = [];
    // basic.get up to the damage and past it (it closed the connection with 541 before)
    for (
      let m = await ch.get("damaged-q", { noAck: true });
      m !== false;
      m = await ch.get("damaged-q", { noAck: true })
    ) {
      got.push(Number(m.content.subarray(0, 16).toString()));
      if (got.length === 100) break;
    }
    // and a consumer for the rest
    const rest = new Promise<void>((resolve) => {
      void ch.consume(
        "damaged-q",
        (m) => {
          if (m === null) return;
          got.push(Number(m.content.subarray(0, 16).toString()));
          ch.ack(m);
          if (got.length === total - 1) resolve();
        },
        { noAck: false },
      );
    });
    await rest;
    const expected = [...Array(total).keys()].filter((i) => i !== damaged.offset);
    assert.deepEqual(got, expected);

    const lines = logLines(sp);
    const found = lines.find((l) => l.file === segments[1] && l.position === damaged.position);
    assert.ok(found, `a log line names ${segments[1]} at ${damaged.position}:\n${sp.stderr()}`);
    assert.equal(found.fromOffset, damaged.offset);
    assert.equal(found.toOffset, damaged.offset + 1);
    const lost = lines.find((l) => l.queue === "damaged-q" && l.lost === 1);
    assert.ok(lost, `the queue counts the lost message:\n${sp.stderr()}`);
    assert.equal((await ch.checkQueue("damaged-q")).messageCount, 0);
    // and /metrics counts it: the damaged batch, its lost offset, the message the queue skipped
    const samples = parseScrape(await (await fetch(`http://${sp.http}/metrics`)).text());
    assert.equal(value(samples, "spindle_log_corrupt_batches_total"), 1);
    assert.equal(value(samples, "spindle_log_lost_offsets_total"), 1);
    assert.equal(value(samples, "spindle_queue_lost_messages_total", { queue: "damaged-q" }), 1);
    await conn.close();
    await sp.stop();
  });

  it("a Kafka consumer reads past a damaged batch and a missing segment file; the broker names both", async () => {
    const first = await startSpindle();
    const kafka = new Kafka({ brokers: [first.kafka], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const configEntries = [{ name: "segment.bytes", value: "8192" }];
    await admin.createTopics({ topics: [{ topic: "damaged-t", numPartitions: 1, configEntries }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const total = 400;
    for (let i = 0; i < total; i += 4) {
      const messages = [0, 1, 2, 3].map((k) => ({ value: `m-${i + k}-`.padEnd(100, "x") }));
      await producer.send({ topic: "damaged-t", messages });
    }
    await producer.disconnect();
    await first.stop();

    const dir = join(first.dataDir, "topics", "damaged-t-0");
    const segments = segmentFiles(dir);
    assert.ok(segments.length >= 6, `segments: ${segments.length}`);
    const damaged = flipInBatch(segments[1]!, 3); // 4 records per batch
    const missing = segments[3]!;
    const missingFrom = Number(missing.slice(-24, -4));
    const missingTo = Number(segments[4]!.slice(-24, -4));
    rmSync(missing);
    const lostOffsets = new Set<number>();
    for (let o = damaged.offset; o < damaged.offset + 4; o++) lostOffsets.add(o);
    for (let o = missingFrom; o < missingTo; o++) lostOffsets.add(o);
    const expected = [...Array(total).keys()].filter((o) => !lostOffsets.has(o));

    const sp = await startSpindle([], first.dataDir);
    const lines = () => logLines(sp);
    const gap = lines().find((l) => l.fromOffset === missingFrom && l.toOffset === missingTo);
    assert.ok(gap, `the missing segment is reported at start:\n${sp.stderr()}`);

    // kafkajs (a consumer group from the beginning): stopped at the damage, silently, before
    const again = new Kafka({ brokers: [sp.kafka], logLevel: logLevel.NOTHING });
    const consumer = again.consumer({ groupId: "damage-reader" });
    await consumer.connect();
    await consumer.subscribe({ topic: "damaged-t", fromBeginning: true });
    const seen: number[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(Number(message.offset));
      },
    });
    await waitFor(
      "kafkajs to read to the end",
      () => (seen.length >= expected.length ? true : undefined),
      20_000,
    );
    await consumer.disconnect();
    assert.deepEqual(seen, expected);

    const found = lines().find((l) => l.file === segments[1] && l.position === damaged.position);
    assert.ok(found, `a log line names ${segments[1]} at ${damaged.position}:\n${sp.stderr()}`);
    assert.equal(found.fromOffset, damaged.offset);
    assert.equal(found.toOffset, damaged.offset + 4);

    if (hasKcat) {
      // librdkafka: a fetch of exactly the damaged batch is answered from the next intact one
      const args = ["-C", "-b", sp.kafka, "-t", "damaged-t", "-e", "-f", "%o\\n"];
      const all = spawnSync("kcat", [...args, "-o", "beginning"], { encoding: "utf8", timeout: 15_000 });
      assert.equal(all.status, 0, all.stderr);
      assert.deepEqual(all.stdout.trim().split("\n").map(Number), expected);
      const at = spawnSync("kcat", [...args, "-o", String(damaged.offset), "-c", "1"], {
        encoding: "utf8",
        timeout: 15_000,
      });
      assert.equal(at.status, 0, at.stderr);
      assert.equal(Number(at.stdout.trim()), damaged.offset + 4);
    } else console.log("# kcat not installed: its part of this test is skipped");
    await sp.stop();
  });

  it("background verification finds damage in a sealed segment nobody reads", async () => {
    const first = await startSpindle();
    const kafka = new Kafka({ brokers: [first.kafka], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const admin = kafka.admin();
    await admin.connect();
    const configEntries = [{ name: "segment.bytes", value: "4096" }];
    await admin.createTopics({ topics: [{ topic: "scrubbed", numPartitions: 1, configEntries }] });
    await admin.disconnect();
    for (let i = 0; i < 60; i++)
      await producer.send({ topic: "scrubbed", messages: [{ value: "v".repeat(200) }] });
    await producer.disconnect();
    await first.stop();
    const segments = segmentFiles(join(first.dataDir, "topics", "scrubbed-0"));
    const damaged = flipInBatch(segments[1]!, 2);

    const sp = await startSpindle([], first.dataDir);
    const line = await waitFor("the verifier's report", () =>
      logLines(sp).find((l) => l.foundBy === "verifier" && l.file === segments[1]),
    );
    assert.equal(line.position, damaged.position);
    assert.equal(line.fromOffset, damaged.offset);
    await sp.stop();
  });

  it("a queue whose tail file was truncated to 0 bytes says what it lost", async () => {
    const first = await startSpindle();
    let conn = await amqplib.connect(first.url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue("cut-q", { durable: true });
    for (let i = 0; i < 20; i++) ch.sendToQueue("cut-q", Buffer.from(`m${i}`), { persistent: true });
    await ch.waitForConfirms();
    await conn.close();
    await first.stop();
    const [tail] = segmentFiles(queueDir(first.dataDir, "cut-q"));
    truncateSync(tail!, 0);

    const sp = await startSpindle([], first.dataDir);
    const line = logLines(sp).find((l) => l.file === tail && l.lostOffsets === 20);
    assert.ok(line, `the truncated tail is reported:\n${sp.stderr()}`);
    conn = await amqplib.connect(sp.url);
    const c2 = await conn.createChannel();
    assert.equal(await c2.get("cut-q", { noAck: true }), false);
    await conn.close();
    await sp.stop();
  });

  it("a flipped byte in meta/changes loses no definition; damage no snapshot covers refuses the start", async () => {
    const first = await startSpindle();
    const conn = await amqplib.connect(first.url);
    const ch = await conn.createChannel();
    await ch.assertQueue("def-a", { durable: true });
    await ch.assertQueue("def-b", { durable: true, arguments: { "x-max-length": 5 } });
    await conn.close();
    await first.stop();
    const changes = join(first.dataDir, "meta", "changes");
    const [log] = segmentFiles(changes);
    const damaged = flipInBatch(log!, 0); // the first change: the vhost's definitions start there

    const sp = await startSpindle([], first.dataDir);
    const c = await amqplib.connect(sp.url);
    const c2 = await c.createChannel();
    assert.equal((await c2.checkQueue("def-a")).queue, "def-a");
    assert.equal((await c2.checkQueue("def-b")).queue, "def-b");
    await c.close();
    const line = logLines(sp).find((l) => l.file === log && l.position === damaged.position);
    assert.ok(line, `the damaged change is reported:\n${sp.stderr()}`);
    await sp.stop();

    // the snapshot that covered it damaged too: the start is refused, naming the change log and the way out
    for (const name of readdirSync(join(first.dataDir, "meta")).filter((n) => n.startsWith("snapshot-"))) {
      const path = join(first.dataDir, "meta", name);
      const bytes = readFileSync(path);
      bytes[bytes.length - 2]! ^= 0x01;
      writeFileSync(path, bytes);
    }
    await assert.rejects(startSpindle([], first.dataDir), (e: Error) => {
      assert.match(e.message, /meta change log .*changes: change 0 is damaged/);
      assert.match(e.message, /move .*changes away: the broker then starts with no definitions/);
      return true;
    });
  });
});
