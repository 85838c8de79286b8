import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fakeBus } from "../testing/fake-bus.ts";
import { FakeClock } from "../testing/fake-clock.ts";
import { rateLimit } from "./rate-limit.ts";

/** Acquires `n` times at once and returns each grant's time relative to the start. */
async function grants(clock: FakeClock, acquire: (i: number) => Promise<boolean>, n: number, runMs: number) {
  const t0 = clock.nowMs();
  const at: number[] = [];
  for (let i = 0; i < n; i++) void acquire(i).then(() => at.push(clock.nowMs() - t0));
  await clock.advance(runMs);
  return at;
}

describe("rate limiters (fake clock)", () => {
  it("token bucket: a burst at once, then one per 1/rate, in arrival order", async () => {
    const clock = new FakeClock();
    const l = rateLimit.tokenBucket(clock, { ratePerSec: 10, burst: 3 });
    assert.deepEqual(await grants(clock, () => l.acquire(), 6, 1_000), [0, 0, 0, 100, 200, 300]);
    await clock.advance(10_000);
    assert.deepEqual(
      await grants(clock, () => l.acquire(), 4, 1_000),
      [0, 0, 0, 100],
      "refilled to burst, no more",
    );
  });

  it("sliding window: at most `limit` in any window", async () => {
    const clock = new FakeClock();
    const l = rateLimit.slidingWindow(clock, { limit: 2, windowMs: 1_000 });
    assert.deepEqual(await grants(clock, () => l.acquire(), 5, 5_000), [0, 0, 1_000, 1_000, 2_000]);
  });

  it("per key: each key has its own limit", async () => {
    const clock = new FakeClock();
    const l = rateLimit.tokenBucket(clock, { ratePerSec: 1, burst: 1, perKey: true });
    const at = await grants(clock, (i) => l.acquire(i % 2 === 0 ? "a" : "b"), 4, 2_000);
    assert.deepEqual(at, [0, 0, 1_000, 1_000]);
  });

  it("an aborted wait resolves false", async () => {
    const clock = new FakeClock();
    const l = rateLimit.tokenBucket(clock, { ratePerSec: 1, burst: 1 });
    await l.acquire();
    const ac = new AbortController();
    const waiting = l.acquire(undefined, ac.signal);
    ac.abort();
    assert.equal(await waiting, false);
  });

  it("rejects nonsense settings with what to change", () => {
    const clock = new FakeClock();
    assert.throws(() => rateLimit.tokenBucket(clock, { ratePerSec: 0 }), /ratePerSec must be > 0/);
    assert.throws(
      () => rateLimit.slidingWindow(clock, { limit: 0, windowMs: 1 }),
      /limit must be an integer ≥ 1/,
    );
  });
});

describe("rate limits on a bus (fake clock)", () => {
  it("per subscription: handler runs are paced", async () => {
    const { bus, clock } = await fakeBus();
    const t0 = clock.nowMs();
    const at: number[] = [];
    await bus.subscribe(
      "t",
      { group: "g", concurrency: 4, rateLimit: { kind: "sliding-window", limit: 2, windowMs: 1_000 } },
      () => {
        at.push(clock.nowMs() - t0);
      },
    );
    for (let i = 0; i < 5; i++) await bus.publish("t", i);
    await clock.advance(3_000);
    assert.deepEqual(at, [0, 0, 1_000, 1_000, 2_000]);
    await bus.close();
  });

  it("per key on a subscription: a hot key waits, the others go", async () => {
    const { bus, clock } = await fakeBus();
    const t0 = clock.nowMs();
    const at: string[] = [];
    await bus.subscribe(
      "t",
      {
        group: "g",
        concurrency: 8,
        rateLimit: { kind: "token-bucket", ratePerSec: 1, burst: 1, perKey: true },
      },
      (m) => {
        at.push(`${m.key}@${clock.nowMs() - t0}`);
      },
    );
    for (const k of ["hot", "hot", "hot", "cold"]) await bus.publish("t", 0, { key: k });
    await clock.advance(3_000);
    assert.deepEqual(at, ["hot@0", "cold@0", "hot@1000", "hot@2000"]);
    await bus.close();
  });

  it("publish: a rate-limited producer", async () => {
    const { another, clock } = await fakeBus();
    const bus = await another({ publishRateLimit: { kind: "token-bucket", ratePerSec: 5, burst: 1 } });
    const t0 = clock.nowMs();
    const at: number[] = [];
    for (let i = 0; i < 4; i++) void bus.publish("t", i).then(() => at.push(clock.nowMs() - t0));
    await clock.advance(1_000);
    assert.deepEqual(at, [0, 200, 400, 600]);
    await bus.close();
  });
});
