import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sleep } from "../lib/clock.ts";
import { fakeBus } from "../testing/fake-bus.ts";

describe("backpressure, pause/resume, drain and timeouts (fake clock)", () => {
  it("runs at most `concurrency` handlers and holds at most `prefetch` messages", async () => {
    const { bus, clock } = await fakeBus();
    let running = 0;
    let most = 0;
    const sub = await bus.subscribe("t", { group: "g", concurrency: 3, prefetch: 5 }, async () => {
      running++;
      most = Math.max(most, running);
      await sleep(clock, 100);
      running--;
    });
    for (let i = 0; i < 20; i++) await bus.publish("t", i);
    await clock.advance(0);
    assert.equal(running, 3);
    assert.equal(await sub.lag(), 15, "5 taken from the broker, 15 left there");
    await clock.advance(1_000);
    assert.equal(most, 3);
    assert.equal(sub.stats.processed, 20);
    assert.equal(await sub.lag(), 0);
    await bus.close();
  });

  it("messages with one key run one at a time in arrival order; other keys run beside them", async () => {
    const { bus, clock } = await fakeBus();
    const log: string[] = [];
    const running = new Set<string>();
    let overlapped = false;
    await bus.subscribe("t", { group: "g", concurrency: 4, prefetch: 8 }, async (m) => {
      const key = m.key ?? "";
      if (running.has(key)) overlapped = true;
      running.add(key);
      log.push(`${m.data}`);
      await sleep(clock, 100);
      running.delete(key);
    });
    for (const [i, k] of ["a", "a", "b", "a", "b", "c"].entries())
      await bus.publish("t", `${k}${i}`, { key: k });
    await clock.advance(0);
    assert.deepEqual(log, ["a0", "b2", "c5"], "one per key at first");
    await clock.advance(1_000);
    assert.equal(overlapped, false);
    assert.deepEqual(
      log.filter((x) => x.startsWith("a")),
      ["a0", "a1", "a3"],
    );
    const unordered = await fakeBus();
    let most = 0;
    let now = 0;
    await unordered.bus.subscribe("t", { group: "g", concurrency: 4, orderByKey: false }, async () => {
      most = Math.max(most, ++now);
      await sleep(unordered.clock, 100);
      now--;
    });
    for (let i = 0; i < 4; i++) await unordered.bus.publish("t", i, { key: "same" });
    await unordered.clock.advance(0);
    assert.equal(most, 4, "orderByKey: false runs one key's messages in parallel");
    await unordered.clock.advance(100);
    await unordered.bus.close();
    await bus.close();
  });

  it("pause stops taking new messages; resume goes on", async () => {
    const { bus, clock } = await fakeBus();
    const seen: number[] = [];
    const sub = await bus.subscribe("t", { group: "g" }, (m) => {
      seen.push(m.data as number);
    });
    await bus.publish("t", 1);
    await clock.advance(1);
    sub.pause();
    await bus.publish("t", 2);
    await clock.advance(1_000);
    assert.deepEqual(seen, [1]);
    sub.resume();
    await clock.advance(1);
    assert.deepEqual(seen, [1, 2]);
    await bus.close();
  });

  it("close drains: running handlers finish and are acked, held ones go back to the group", async () => {
    const { bus, clock, another } = await fakeBus();
    const done: string[] = [];
    const sub = await bus.subscribe("t", { group: "g", concurrency: 1, prefetch: 3 }, async (m) => {
      await sleep(clock, 500);
      done.push(`first:${m.data}`);
    });
    for (let i = 0; i < 3; i++) await bus.publish("t", i);
    await clock.advance(100);
    const closing = sub.close();
    const other = await another();
    await other.subscribe("t", { group: "g" }, (m) => {
      done.push(`second:${m.data}`);
    });
    await clock.advance(1_000);
    await closing;
    assert.deepEqual(done.sort(), ["first:0", "second:1", "second:2"]);
    await bus.close();
    await other.close();
  });

  it("close aborts a handler still running after drainTimeoutMs and gives its message back", async () => {
    const { bus, clock, another } = await fakeBus();
    let aborted = false;
    const sub = await bus.subscribe("t", { group: "g", drainTimeoutMs: 1_000 }, async (_m, ctx) => {
      ctx.signal.addEventListener("abort", () => {
        aborted = true;
      });
      await new Promise(() => {}); // never resolves: ignores its signal too
    });
    await bus.publish("t", "stuck");
    await clock.advance(1);
    const closing = sub.close();
    await clock.advance(1_000);
    await closing;
    assert.equal(aborted, true);
    const got: unknown[] = [];
    const other = await another();
    await other.subscribe("t", { group: "g" }, (m) => {
      got.push(m.data);
    });
    await clock.advance(1);
    assert.deepEqual(got, ["stuck"], "redelivered, not lost and not dead-lettered");
    assert.equal((await bus.deadLetters("t.g.dlq")).length, 0);
    await other.close();
    await bus.close();
  });

  it("a handler past timeoutMs fails with HandlerTimeoutError and is retried", async () => {
    const { bus, clock } = await fakeBus();
    const attempts: number[] = [];
    const sub = await bus.subscribe("t", { group: "g", timeoutMs: 200, retry: false }, async (m, ctx) => {
      attempts.push(m.attempt);
      await sleep(clock, 1_000, ctx.signal);
    });
    await bus.publish("t", 1);
    await clock.advance(199);
    assert.equal(sub.stats.failed, 0);
    await clock.advance(1);
    assert.equal(sub.stats.failed, 1);
    const [d] = await bus.deadLetters("t.g.dlq");
    assert.equal(d?.error.name, "HandlerTimeoutError");
    await bus.close();
  });

  it("subscribe rejects bad settings with what to change", async () => {
    const { bus } = await fakeBus();
    await assert.rejects(
      bus.subscribe("t", { group: "" }, () => {}),
      /options.group must name the consumer group/,
    );
    await assert.rejects(
      bus.subscribe("t", { group: "g", concurrency: 0 }, () => {}),
      /concurrency must be an integer ≥ 1/,
    );
    await assert.rejects(
      bus.subscribe("t", { group: "g", concurrency: 4, prefetch: 2 }, () => {}),
      /prefetch must be an integer ≥ concurrency \(4\)/,
    );
    await bus.close();
  });
});
