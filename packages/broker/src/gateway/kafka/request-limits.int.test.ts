// What one Kafka peer can make the broker hold, over loopback sockets with short deadlines: a trickled
// request is closed at its deadline, request bodies wait for the broker-wide budget while small requests
// get through, and idle partial requests release what they held. Invariant: other clients stay served.

import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { MemoryAccount } from "../../lib/index.ts";
import { request } from "./raw-client.ts";
import { startTestKafka, type TestKafka } from "./test-broker.ts";

const RECEIVE_MS = 1000;
const IDLE_MS = 1500;
const FRAME_MAX = 1024 * 1024;
const memory = new MemoryAccount();
let kafka: TestKafka;
before(async () => {
  kafka = await startTestKafka({
    requestReceiveMs: RECEIVE_MS,
    idleMs: IDLE_MS,
    maxRequestBytes: FRAME_MAX,
    requestBytesInFlightMax: 2 * FRAME_MAX,
    memory,
  });
});
after(() => kafka.close());

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(kafka.port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
  });
}

function closed(s: Socket): Promise<number> {
  const t0 = Date.now();
  return new Promise((resolve) => s.once("close", () => resolve(Date.now() - t0)));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends a size prefix declaring `size` bytes, then `sent` of them. */
async function partial(size: number, sent: number): Promise<Socket> {
  const s = await open();
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(size);
  s.write(Buffer.concat([prefix, Buffer.alloc(sent, 7)]));
  return s;
}

test("a request trickled a byte at a time is closed at its deadline: bytes do not extend it", async () => {
  const s = await open();
  const gone = closed(s);
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(100);
  s.write(prefix);
  // The broker runs in this process: a timer of the deadline's length set now shows how late this event
  // loop runs timers (a loaded machine), so the bound allows that lateness and no more.
  const t0 = Date.now();
  let lateMs = 0;
  const reference = setTimeout(() => (lateMs = Date.now() - t0 - RECEIVE_MS), RECEIVE_MS);
  const trickle = setInterval(() => s.writable && s.write(Buffer.from([1])), 100);
  try {
    const ms = await Promise.race([gone, sleep(4 * RECEIVE_MS).then(() => -1)]);
    assert.ok(
      ms >= RECEIVE_MS - 100 && ms < 2 * RECEIVE_MS + lateMs,
      `closed after ${ms} ms (deadline ${RECEIVE_MS}, timers here ran ${lateMs} ms late)`,
    );
  } finally {
    clearTimeout(reference);
    clearInterval(trickle);
    s.destroy();
  }
});

test("request bodies past the broker-wide budget wait unread; small requests are still answered", async () => {
  const holders = await Promise.all([1, 2, 3, 4].map(() => partial(FRAME_MAX, FRAME_MAX - 1000)));
  try {
    await sleep(200);
    assert.ok(
      memory.byKind().kafkaRequests <= 2 * FRAME_MAX,
      `held ${memory.byKind().kafkaRequests} bytes of requests, budget ${2 * FRAME_MAX}`,
    );
    const t0 = Date.now();
    const res = await request<{ errorCode: number }>(kafka.address, 18, 0, {});
    assert.equal(res.errorCode, 0);
    assert.ok(Date.now() - t0 < RECEIVE_MS / 2, "answered while the budget is taken");
    // the holders that got room hit their deadline, and those waiting get theirs and are closed too
    const ms = await Promise.race([Promise.all(holders.map(closed)), sleep(5 * RECEIVE_MS).then(() => null)]);
    assert.notEqual(ms, null, "idle partial requests are closed");
    // the server sees each close a moment after the client does
    for (let i = 0; i < 100 && memory.byKind().kafkaRequests > 0; i++) await sleep(10);
    assert.equal(memory.byKind().kafkaRequests, 0, "and what they held is released");
  } finally {
    for (const h of holders) h.destroy();
  }
});

test("a connection with no traffic either way is closed after the idle time (connections.max.idle.ms)", async () => {
  const s = await open();
  await request(kafka.address, 18, 0, {}); // another connection's traffic does not count
  const ms = await Promise.race([closed(s), sleep(3 * IDLE_MS).then(() => -1)]);
  assert.ok(ms >= IDLE_MS - 100 && ms < 2 * IDLE_MS, `closed after ${ms} ms (idle time ${IDLE_MS})`);
});
