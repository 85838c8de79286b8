// Fault: idle peers that make a real `spindle` hold memory — Kafka clients each 90 MB into a 100 MB request,
// and one AMQP connection with 60 channels each 15 MiB into a body. Invariant checked: the broker's RSS
// stays bounded by its budgets, and other clients are served meanwhile.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { afterEach, beforeEach, test } from "node:test";
import { amqp } from "@spindle/protocol";
import amqplib from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { openRawAmqp } from "../support/raw-amqp.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

const MiB = 1024 * 1024;
// a broker per test: what one scenario left in the allocator must not blur the other's figure
let spindle: SpindleProcess;
beforeEach(async () => {
  spindle = await startSpindle();
});
afterEach(() => spindle.stop());

function rss(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${spindle.child.pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The highest RSS seen once it has not grown for a second (at most 20 s). */
async function settledRss(): Promise<number> {
  let peak = rss();
  let stableSince = Date.now();
  const deadline = Date.now() + 20_000;
  while (Date.now() - stableSince < 1000 && Date.now() < deadline) {
    await sleep(100);
    const now = rss();
    if (now > peak + MiB) stableSince = Date.now();
    peak = Math.max(peak, now);
  }
  return peak;
}

test("8 idle Kafka clients each 90 MB into a 100 MB request: the broker holds at most its request budget", async (t) => {
  const [host, port] = spindle.kafka.split(":") as [string, string];
  const idle = await settledRss();
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < 8; i++) {
      const s = connect(Number(port), host);
      s.on("error", () => undefined);
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(100_000_000);
      s.write(prefix);
      const chunk = Buffer.alloc(MiB, 1);
      for (let sent = 0; sent < 90_000_000; sent += MiB)
        s.write(chunk.subarray(0, Math.min(MiB, 90_000_000 - sent)));
      sockets.push(s);
    }
    const held = (await settledRss()) - idle;
    // the 256 MiB budget (two such requests fit) plus the reads in flight; 8 × 90 MB would be 720 MB
    t.diagnostic(`RSS grew by ${Math.round(held / MiB)} MiB`);
    assert.ok(held < 400 * MiB, `RSS grew by ${Math.round(held / MiB)} MiB`);
    const kafka = new Kafka({ clientId: "other", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "still-served" }] });
    assert.ok((await admin.listTopics()).includes("still-served"));
    await admin.disconnect();
  } finally {
    for (const s of sockets) s.destroy();
  }
});

test("60 AMQP channels each 15 MiB into a body: refused past the connection's bound, others served", async (t) => {
  const idle = await settledRss();
  const p = await openRawAmqp(spindle.port);
  const closes: amqp.AmqpMethod[] = [];
  const reading = (async () => {
    for (let m = await p.nextMethod(); m !== null; m = await p.nextMethod())
      if (m.name === "channel.close") closes.push(m);
  })();
  const chunk = Buffer.alloc(131_072 - amqp.FRAME_OVERHEAD_BYTES, 1);
  for (let ch = 1; ch <= 60; ch++) {
    p.send(ch, amqp.createMethod("channel.open", {}));
    p.startPublish(ch, "nowhere", 16 * MiB);
    for (let sent = 0; sent < 15 * MiB; sent += chunk.length) p.body(ch, chunk);
  }
  try {
    // every body frame is sent: the refused channels' frames are read and dropped
    await new Promise<void>((resolve) =>
      p.socket.writableLength === 0 ? resolve() : p.socket.once("drain", resolve),
    );
    for (let i = 0; i < 200 && closes.length < 56; i++) await sleep(100);
    const held = (await settledRss()) - idle;
    t.diagnostic(`RSS grew by ${Math.round(held / MiB)} MiB`);
    assert.ok(held < 300 * MiB, `RSS grew by ${Math.round(held / MiB)} MiB (60 × 15 MiB would be 900)`);
    assert.equal(closes.length, 60 - 4, "past 4 unfinished 16 MiB bodies (64 MiB) each channel is closed");
    const c = closes[0] as amqp.MethodOf<"channel.close">;
    assert.equal(c.args.replyCode, 406);
    assert.match(c.args.replyText, /unfinished message bodies on this connection/);

    const conn = await amqplib.connect(spindle.url);
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue("still-served");
    ch.sendToQueue("still-served", Buffer.alloc(MiB));
    await ch.waitForConfirms();
    await conn.close();
  } finally {
    p.socket.destroy();
    await reading;
  }
});
