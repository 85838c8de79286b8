import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NonRetryableError } from "../errors.ts";
import { fakeBus } from "../testing/fake-bus.ts";
import { retry } from "./retry.ts";

describe("retry policies", () => {
  it("exponential doubles from initialMs up to maxMs; jitter draws below it", () => {
    const none = retry.exponential({ attempts: 6, initialMs: 200, maxMs: 1_000 });
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => none.delayMs(n, new Error())),
      [200, 400, 800, 1_000, 1_000],
    );
    const full = retry.exponential({ initialMs: 200, jitter: "full", random: () => 0.5 });
    assert.deepEqual(
      [1, 2, 3].map((n) => full.delayMs(n, new Error())),
      [100, 200, 400],
    );
    const equal = retry.exponential({ initialMs: 200, jitter: "equal", random: () => 0 });
    assert.deepEqual(
      [1, 2, 3].map((n) => equal.delayMs(n, new Error())),
      [100, 200, 400],
    );
    const top = retry.exponential({ initialMs: 200, jitter: "full", random: () => 0.999999 });
    assert.ok(top.delayMs(1, new Error()) < 200);
  });

  it("fixed, immediate and custom; retryable() and NonRetryableError (also as a cause)", () => {
    assert.equal(retry.fixed({ delayMs: 50 }).delayMs(3, new Error()), 50);
    assert.equal(retry.immediate().delayMs(3, new Error()), 0);
    const custom = retry.custom({ delayMs: (n, e) => n * 10 + (e instanceof TypeError ? 1 : 0), maxMs: 25 });
    assert.equal(custom.delayMs(1, new TypeError()), 11);
    assert.equal(custom.delayMs(5, new Error()), 25);
    const p = retry.fixed({ delayMs: 1, retryable: (e) => !(e instanceof TypeError) });
    assert.equal(p.retryable(new Error()), true);
    assert.equal(p.retryable(new TypeError()), false);
    assert.equal(p.retryable(new NonRetryableError("no")), false);
    assert.equal(p.retryable(new Error("wrapped", { cause: new NonRetryableError("no") })), false);
    assert.throws(() => retry.fixed({ attempts: 0, delayMs: 1 }), /attempts must be an integer ≥ 1/);
  });
});

describe("retry middleware on the memory transport (fake clock)", () => {
  it("short delays are waited in process: attempts at 0, 100, 300 ms, then success", async () => {
    const { bus, clock } = await fakeBus();
    const t0 = clock.nowMs();
    const runs: { attempt: number; atMs: number }[] = [];
    const sub = await bus.subscribe(
      "orders",
      { group: "billing", retry: retry.exponential({ attempts: 5, initialMs: 100 }) },
      (m) => {
        runs.push({ attempt: m.attempt, atMs: clock.nowMs() - t0 });
        if (m.attempt < 3) throw new Error("flaky");
      },
    );
    await bus.publish("orders", { orderId: 1 });
    await clock.advance(1_000);
    assert.deepEqual(runs, [
      { attempt: 1, atMs: 0 },
      { attempt: 2, atMs: 100 },
      { attempt: 3, atMs: 300 },
    ]);
    assert.deepEqual(
      { ...sub.stats },
      { processed: 1, failed: 2, retried: 2, deadLettered: 0, duplicates: 0, released: 0 },
    );
    await bus.close();
  });

  it("long delays go through the broker as a delayed copy; msg.attempt keeps counting", async () => {
    const { bus, clock } = await fakeBus();
    const t0 = clock.nowMs();
    const runs: [number, number][] = [];
    await bus.subscribe(
      "orders",
      { group: "billing", retry: retry.fixed({ attempts: 3, delayMs: 5_000, inProcessMaxMs: 1_000 }) },
      (m) => {
        runs.push([m.attempt, clock.nowMs() - t0]);
        if (m.attempt < 3) throw new Error("down");
      },
    );
    await bus.publish("orders", 1);
    await clock.advance(4_999);
    assert.deepEqual(runs, [[1, 0]]);
    await clock.advance(1);
    assert.deepEqual(runs, [
      [1, 0],
      [2, 5_000],
    ]);
    await clock.advance(5_000);
    assert.equal(runs.length, 3);
    await bus.close();
  });

  it("a delayed copy goes to the failing group only, not to the topic's other groups", async () => {
    const { bus, clock } = await fakeBus();
    const seen: string[] = [];
    const slow = retry.fixed({ attempts: 2, delayMs: 10_000, inProcessMaxMs: 0 });
    await bus.subscribe("t", { group: "a", retry: slow }, (m) => {
      seen.push(`a${m.attempt}`);
      if (m.attempt === 1) throw new Error("x");
    });
    await bus.subscribe("t", { group: "b" }, (m) => {
      seen.push(`b${m.attempt}`);
    });
    await bus.publish("t", 0);
    await clock.advance(20_000);
    assert.deepEqual(seen.sort(), ["a1", "a2", "b1"]);
    await bus.close();
  });

  it("a poison message does not block the ones behind it (concurrency 1)", async () => {
    const { bus, clock } = await fakeBus();
    const done: number[] = [];
    await bus.subscribe(
      "jobs",
      { group: "w", retry: retry.exponential({ attempts: 4, initialMs: 2_000, inProcessMaxMs: 500 }) },
      (m) => {
        if (m.data === 0) throw new Error("poison");
        done.push(m.data as number);
      },
    );
    for (let i = 0; i < 5; i++) await bus.publish("jobs", i);
    await clock.advance(10);
    assert.deepEqual(done, [1, 2, 3, 4]);
    await clock.advance(60_000);
    const dead = await bus.deadLetters("jobs.w.dlq");
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.attempts, 4);
    await bus.close();
  });

  it("NonRetryableError skips the remaining attempts", async () => {
    const { bus, clock } = await fakeBus();
    let runs = 0;
    const sub = await bus.subscribe("t", { group: "g", retry: retry.immediate({ attempts: 5 }) }, () => {
      runs++;
      throw new NonRetryableError("bad input");
    });
    await bus.publish("t", 1);
    await clock.advance(10);
    assert.equal(runs, 1);
    assert.equal(sub.stats.deadLettered, 1);
    await bus.close();
  });
});
