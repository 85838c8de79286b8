// A durable queue on a full disk (FaultFs): publishes are refused with DISK_FULL (a nack, not a crash), a
// message waiting for the disk is not delivered from a log that lacks it, and once space is back the queue
// stores and delivers again with dense offsets — also after a restart.

import assert from "node:assert/strict";
import { test } from "node:test";
import { isBrokerError, silentLogger } from "../lib/index.ts";
import { FakeClock, FaultFs } from "../testing/index.ts";
import { createMessage, type Message } from "./message.ts";
import type { Queue, QueueOptions } from "./queue.ts";
import { QueueStore } from "./queue-store.ts";

const OPTS: QueueOptions = { name: "q", durable: true, exclusiveOwner: null, autoDelete: false, args: {} };
const message = (body: string): Message =>
  createMessage({
    exchange: "",
    routingKey: "q",
    properties: Buffer.from([0, 0]),
    body: Buffer.from(body),
    persistent: true,
  });

/** What an enqueue came to: "stored", the error code, or "rejected" (x-overflow). */
async function outcome(q: Queue, body: string): Promise<string> {
  const r = q.enqueue(message(body));
  if (typeof r === "symbol") return "rejected";
  return r.then(
    () => "stored",
    (e: unknown) => (isBrokerError(e) ? e.code : String(e)),
  );
}

/** The next message a basic.get (no-ack) hands out, or null; fails instead of hanging. */
async function get(q: Queue): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("basic.get did not answer")), 5000);
  });
  try {
    const qm = await Promise.race([q.get(true), late]);
    return qm === null ? null : qm.message.body.toString();
  } finally {
    clearTimeout(timer);
  }
}

test("a full disk: nacked publishes, refused ones, no delivery from a log that lacks the message, healing without a restart", async () => {
  let fs = new FaultFs();
  const store = () =>
    new QueueStore({
      fs,
      dir: "/data/queues",
      clock: new FakeClock(),
      logger: silentLogger,
      fsync: { mode: "group" },
    });
  const first = await store().open(OPTS, false);
  assert.equal(await outcome(first, "m0"), "stored");
  assert.equal(await outcome(first, "m1"), "stored");
  await first.close();

  const q = await store().open(OPTS, true);
  fs.capacityBytes = fs.usedBytes() + 10;
  const reading = get(q); // starts reading m0, m1 back from the log
  const m2 = outcome(q, "m2"); // enqueued during that read: it stays "in the log" for the queue
  assert.equal(await m2, "DISK_FULL", "the publisher gets a retriable error (a nack)");
  assert.equal(await outcome(q, "refused"), "DISK_FULL", "refused while the disk is full");
  assert.equal(await reading, "m0");
  assert.equal(await get(q), "m1");
  assert.equal(await get(q), null, "m2 is not in the log yet: basic.get-empty, not a busy loop");
  assert.equal(q.messageCount, 1);

  fs.capacityBytes = Number.POSITIVE_INFINITY;
  let after: string | null = null;
  for (let i = 0; i < 100 && after === null; i++) {
    await new Promise((r) => setTimeout(r, 20));
    after = await get(q);
  }
  // a nack tells the publisher to send again; the queue keeps the message at its offset (at-least-once)
  assert.equal(after, "m2");
  assert.equal(await outcome(q, "m3"), "stored");
  await q.close();

  fs = fs.crash({ next: () => 0, int: () => 0 });
  const restarted = await store().open(OPTS, true);
  assert.equal(await get(restarted), "m3", "m0..m2 were acked; m3 survives a crash");
  assert.equal(await get(restarted), null);
  await restarted.close();
});
