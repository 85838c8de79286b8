// npm run bench:memory-hold — what idle peers can make the broker hold: 8 Kafka clients that each declare a
// 100 MB request and send 90 MB of it, and one AMQP connection with 60 channels each 15 MiB into a body.
// Prints the broker's RSS before and while they hold, and whether another client is still served.

import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { amqp } from "@spindle/protocol";
import amqplib from "amqplib";
import { request } from "../packages/broker/src/gateway/kafka/raw-client.ts";
import { openRawAmqp } from "../test/support/raw-amqp.ts";
import { type SpindleProcess, startSpindle } from "../test/support/spindle-process.ts";
import { fmt, mb, printTable } from "./table.ts";

const KAFKA_CLIENTS = 8;
const KAFKA_DECLARED = 100_000_000;
const KAFKA_SENT = 90_000_000;
const AMQP_CHANNELS = 60;
const AMQP_SENT = 15 * 1024 * 1024;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until RSS has not grown for a second (or 20 s passed); returns the highest RSS seen. */
async function settledRss(pid: number): Promise<number> {
  let peak = rssBytes(pid);
  let stableSince = Date.now();
  const deadline = Date.now() + 20_000;
  while (Date.now() - stableSince < 1000 && Date.now() < deadline) {
    await sleep(100);
    const now = rssBytes(pid);
    if (now > peak + 1024 * 1024) stableSince = Date.now();
    peak = Math.max(peak, now);
  }
  return peak;
}

/** Milliseconds another client takes for one round trip, or "timeout" after 5 s. */
async function served(f: () => Promise<unknown>): Promise<string> {
  const t0 = performance.now();
  const late = sleep(5000).then(() => "timeout");
  return Promise.race([
    f().then(
      () => `${fmt(performance.now() - t0, 0)} ms`,
      (e: Error) => e.message,
    ),
    late,
  ]);
}

async function kafkaPartials(spindle: SpindleProcess): Promise<(string | number)[]> {
  const [host, port] = spindle.kafka.split(":") as [string, string];
  const before = rssBytes(spindle.child.pid as number);
  const sockets: Socket[] = [];
  for (let i = 0; i < KAFKA_CLIENTS; i++) {
    const s = connect(Number(port), host);
    s.on("error", () => undefined);
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(KAFKA_DECLARED);
    s.write(prefix);
    const chunk = Buffer.alloc(1024 * 1024, 1);
    for (let sent = 0; sent < KAFKA_SENT; sent += chunk.length)
      s.write(chunk.subarray(0, Math.min(chunk.length, KAFKA_SENT - sent)));
    sockets.push(s);
  }
  const held = await settledRss(spindle.child.pid as number);
  const other = await served(() => request(spindle.kafka, 18, 0, {}));
  for (const s of sockets) s.destroy();
  return [
    `${KAFKA_CLIENTS} Kafka clients × ${KAFKA_SENT / 1e6} MB of a ${KAFKA_DECLARED / 1e6} MB request`,
    fmt(mb(before)),
    fmt(mb(held)),
    other,
  ];
}

async function amqpPartials(spindle: SpindleProcess): Promise<(string | number)[]> {
  const before = rssBytes(spindle.child.pid as number);
  const p = await openRawAmqp(spindle.port);
  const declared = AMQP_SENT + 1024 * 1024;
  const chunk = Buffer.alloc(131_072 - amqp.FRAME_OVERHEAD_BYTES, 1);
  for (let ch = 1; ch <= AMQP_CHANNELS; ch++) {
    p.send(ch, amqp.createMethod("channel.open", {}));
    p.startPublish(ch, "nowhere", declared);
    for (let sent = 0; sent < AMQP_SENT; sent += chunk.length)
      p.body(ch, chunk.subarray(0, Math.min(chunk.length, AMQP_SENT - sent)));
  }
  // every frame sent (bodies of refused publishes are read and dropped), then the figure
  await new Promise<void>((resolve) =>
    p.socket.writableLength === 0 ? resolve() : p.socket.once("drain", resolve),
  );
  const held = await settledRss(spindle.child.pid as number);
  const other = await served(async () => {
    const conn = await amqplib.connect(spindle.url);
    const c = await conn.createConfirmChannel();
    await c.assertQueue("memory-hold-probe");
    c.sendToQueue("memory-hold-probe", Buffer.from("x"));
    await c.waitForConfirms();
    await conn.close();
  });
  p.socket.destroy();
  return [
    `1 AMQP connection, ${AMQP_CHANNELS} channels × ${AMQP_SENT / 1024 / 1024} MiB of a body`,
    fmt(mb(before)),
    fmt(mb(held)),
    other,
  ];
}

const rows: (string | number)[][] = [];
for (const scenario of [kafkaPartials, amqpPartials]) {
  const spindle = await startSpindle();
  try {
    await sleep(1000);
    rows.push(await scenario(spindle));
  } finally {
    await spindle.stop();
  }
}
printTable(
  "What idle peers make the broker hold (RSS, MiB)",
  ["scenario", "RSS idle", "RSS held", "another client served in"],
  rows,
);
