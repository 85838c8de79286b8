import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CircuitOpenError } from "../errors.ts";
import { fakeBus } from "../testing/fake-bus.ts";
import { FakeClock } from "../testing/fake-clock.ts";
import { CircuitBreaker, type CircuitState } from "./circuit-breaker.ts";
import { retry } from "./retry.ts";

const ok = () => Promise.resolve("ok");
const fail = () => Promise.reject(new Error("down"));

describe("CircuitBreaker (fake clock)", () => {
  it("opens after N failures in a row; a success in between resets the count", async () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker(clock, { failureThreshold: 3, openMs: 1_000 });
    await assert.rejects(b.run(fail));
    await assert.rejects(b.run(fail));
    await b.run(ok);
    await assert.rejects(b.run(fail));
    await assert.rejects(b.run(fail));
    assert.equal(b.state, "closed");
    await assert.rejects(b.run(fail));
    assert.equal(b.state, "open");
    await assert.rejects(b.run(ok), CircuitOpenError);
  });

  it("half-open after openMs: a successful probe closes it, a failed one reopens it for another openMs", async () => {
    const clock = new FakeClock();
    const states: CircuitState[] = [];
    const b = new CircuitBreaker(clock, {
      failureThreshold: 1,
      openMs: 1_000,
      onStateChange: (s) => states.push(s),
    });
    await assert.rejects(b.run(fail));
    await clock.advance(999);
    assert.equal(b.state, "open");
    await clock.advance(1);
    assert.equal(b.state, "half-open");
    await assert.rejects(b.run(fail));
    assert.equal(b.state, "open");
    await clock.advance(1_000);
    assert.equal(await b.run(ok), "ok");
    assert.deepEqual(states, ["open", "half-open", "open", "half-open", "closed"]);
  });

  it("half-open lets one probe run; the others wait for its outcome", async () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker(clock, { failureThreshold: 1, openMs: 10 });
    await assert.rejects(b.run(fail));
    await clock.advance(10);
    let running = 0;
    let most = 0;
    let release: () => void = () => {};
    const slow = () =>
      new Promise<string>((resolve) => {
        running++;
        most = Math.max(most, running);
        release = () => {
          running--;
          resolve("ok");
        };
      });
    const probe = b.run(slow);
    const waiting = b.run(async () => {
      running++;
      most = Math.max(most, running);
      running--;
      return "after";
    });
    await clock.advance(0);
    assert.equal(most, 1);
    release();
    assert.deepEqual(await Promise.all([probe, waiting]), ["ok", "after"]);
    assert.equal(b.state, "closed");
  });

  it("opens on a failure rate over a window once enough calls were made", async () => {
    const clock = new FakeClock();
    const b = new CircuitBreaker(clock, { failureRate: { rate: 0.5, windowMs: 1_000, minCalls: 4 } });
    await b.run(ok);
    await assert.rejects(b.run(fail));
    await b.run(ok);
    assert.equal(b.state, "closed");
    await assert.rejects(b.run(fail));
    assert.equal(b.state, "open", "2 of 4 failed");
    const c = new CircuitBreaker(clock, { failureRate: { rate: 0.5, windowMs: 1_000, minCalls: 4 } });
    await assert.rejects(c.run(fail));
    await assert.rejects(c.run(fail));
    await clock.advance(1_001);
    await c.run(ok);
    await c.run(ok);
    await assert.rejects(c.run(fail));
    assert.equal(c.state, "closed", "the old failures left the window: 1 of 3");
  });
});

describe("circuit breaker on a subscription (fake clock)", () => {
  it("while open the subscription pauses instead of burning retries; it resumes for a probe and drains", async () => {
    const { bus, clock } = await fakeBus();
    let healthy = false;
    const calls: number[] = [];
    const sub = await bus.subscribe(
      "t",
      {
        group: "g",
        retry: retry.fixed({ attempts: 100, delayMs: 10 }),
        circuitBreaker: { failureThreshold: 3, openMs: 5_000 },
      },
      (m) => {
        calls.push(m.data as number);
        if (!healthy) throw new Error("downstream down");
      },
    );
    for (let i = 0; i < 5; i++) await bus.publish("t", i);
    await clock.advance(100);
    assert.equal(sub.circuit, "open");
    assert.equal(calls.length, 3, "three failures opened it; no more handler calls");
    await clock.advance(4_000);
    assert.equal(calls.length, 3, "nothing runs while open (no retries burnt)");
    assert.equal(sub.stats.released, 1, "the message that met the open breaker went back unprocessed");
    healthy = true;
    await clock.advance(1_000);
    assert.equal(sub.circuit, "closed");
    assert.deepEqual(calls.slice(3).sort(), [0, 1, 2, 3, 4]);
    assert.equal(sub.stats.processed, 5);
    assert.equal(sub.stats.deadLettered, 0);
    await bus.close();
  });
});
