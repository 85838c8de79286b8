// Unit tests of the rate sampler on a fake clock: rates are per-second differences between the last two
// samples, taken every 5 s. Invariant: each assertion fails if a rate used another window or counter.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { Queue } from "../../queues/index.ts";
import { queueCounters } from "../../queues/index.ts";
import { FakeClock } from "../../testing/index.ts";
import { RATE_INTERVAL_MS, RateSampler } from "./rates.ts";

/** What the sampler reads of a queue. */
function fakeQueue() {
  return { stats: queueCounters(), messageCount: 0, unackedCount: 0 };
}

test("a rate is the change over the last sample interval, per second, and 0 before two samples", () => {
  const clock = new FakeClock();
  const global = { publish: 0 };
  const q = fakeQueue();
  const r = new RateSampler(clock, { global: () => ({ ...global }), queues: () => [q as unknown as Queue] });
  r.start();
  global.publish = 50;
  q.stats.publish = 10;
  q.messageCount = 10;
  assert.equal(r.rate("publish"), 0, "one sample so far");
  assert.equal(r.queueRate(q as unknown as Queue, "publish"), 0);
  clock.advance(RATE_INTERVAL_MS);
  assert.equal(r.rate("publish"), 10, "50 in 5 s");
  assert.equal(r.queueRate(q as unknown as Queue, "publish"), 2);
  assert.equal(r.queueRate(q as unknown as Queue, "messages"), 2, "queue length grew by 10 in 5 s");
  q.stats.deliver = 5;
  q.stats.getNoAck = 5;
  q.messageCount = 0;
  clock.advance(RATE_INTERVAL_MS);
  assert.equal(r.rate("publish"), 0, "nothing published in the last interval");
  assert.equal(r.queueRate(q as unknown as Queue, "deliver_get"), 2, "deliver_get sums deliveries and gets");
  assert.equal(r.queueRate(q as unknown as Queue, "messages_ready"), -2);
  r.stop();
});

test("a queue declared since the last sample has its rates from 0 (it was empty then); an unknown counter has rate 0", () => {
  const clock = new FakeClock();
  const queues: unknown[] = [];
  const r = new RateSampler(clock, { global: () => ({}), queues: () => queues as Queue[] });
  r.start();
  const q = fakeQueue();
  q.stats.publish = 100;
  q.messageCount = 100;
  queues.push(q);
  clock.advance(RATE_INTERVAL_MS);
  assert.equal(r.queueRate(q as unknown as Queue, "publish"), 20, "100 published in its first 5 s");
  assert.equal(r.queueRate(q as unknown as Queue, "messages"), 20);
  assert.equal(r.rate("nope"), 0);
  r.stop();
});

test("a queue that was there at the first sample has rate 0 until it was sampled twice", () => {
  const clock = new FakeClock();
  const q = fakeQueue();
  q.stats.publish = 100;
  const r = new RateSampler(clock, { global: () => ({}), queues: () => [q as unknown as Queue] });
  r.start();
  assert.equal(
    r.queueRate(q as unknown as Queue, "publish"),
    0,
    "its counters before the sampler are unknown",
  );
  r.stop();
});
