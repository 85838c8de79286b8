import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NonRetryableError } from "./errors.ts";
import { retry } from "./pipeline/retry.ts";
import { fakeBus } from "./testing/fake-bus.ts";

describe("dead letters and redrive (fake clock)", () => {
  it("records why: error, stack head, attempts, original topic and group, first and last failure", async () => {
    const { bus, clock } = await fakeBus();
    const t0 = clock.nowMs();
    await bus.subscribe(
      "orders",
      { group: "billing", retry: retry.fixed({ attempts: 3, delayMs: 200 }), deadLetter: "orders.dlq" },
      () => {
        throw new RangeError("card declined");
      },
    );
    const id = await bus.publish("orders", { orderId: 7 }, { key: "customer-7", headers: { tenant: "t1" } });
    await clock.advance(1_000);
    const [d, ...rest] = await bus.deadLetters("orders.dlq");
    assert.equal(rest.length, 0);
    assert.ok(d);
    assert.equal(d.id, id);
    assert.equal(d.topic, "orders");
    assert.equal(d.group, "billing");
    assert.equal(d.attempts, 3);
    assert.deepEqual(
      { name: d.error.name, message: d.error.message },
      { name: "RangeError", message: "card declined" },
    );
    assert.match(d.error.stack, /^RangeError: card declined\n\s+at /u);
    assert.ok(d.error.stack.split("\n").length <= 6);
    assert.equal(d.firstFailureMs, t0);
    assert.equal(d.lastFailureMs, t0 + 400);
    assert.equal(d.message.key, "customer-7");
    assert.equal(d.message.headers.tenant, "t1");
    assert.deepEqual(JSON.parse(d.message.body.toString()), { orderId: 7 });
    await bus.close();
  });

  it("the first failure time survives delayed redeliveries", async () => {
    const { bus, clock } = await fakeBus();
    const t0 = clock.nowMs();
    await bus.subscribe(
      "t",
      { group: "g", retry: retry.fixed({ attempts: 3, delayMs: 5_000, inProcessMaxMs: 0 }) },
      () => {
        throw new Error("down");
      },
    );
    await bus.publish("t", 1);
    await clock.advance(20_000);
    const [d] = await bus.deadLetters("t.g.dlq");
    assert.equal(d?.firstFailureMs, t0);
    assert.equal(d?.lastFailureMs, t0 + 10_000);
    assert.equal(d?.attempts, 3);
    await bus.close();
  });

  it("redrive sends chosen dead letters back to their group only, at the asked rate, and reports counts", async () => {
    const { bus, clock } = await fakeBus();
    let broken = true;
    const handled: number[] = [];
    const otherGroup: number[] = [];
    await bus.subscribe("t", { group: "g", retry: false }, (m) => {
      if (broken) throw new NonRetryableError("bug");
      handled.push(m.data as number);
    });
    await bus.subscribe("t", { group: "other" }, (m) => {
      otherGroup.push(m.data as number);
    });
    for (let i = 0; i < 6; i++) await bus.publish("t", i);
    await clock.advance(10);
    assert.equal((await bus.deadLetters("t.g.dlq")).length, 6);
    broken = false;
    const t0 = clock.nowMs();
    const redriving = bus.redrive("t.g.dlq", {
      filter: (d) => JSON.parse(d.message.body.toString()) % 2 === 0,
      limit: 2,
      ratePerSec: 10,
    });
    await clock.advance(1_000);
    const r = await redriving;
    assert.deepEqual(r, { redriven: 2, kept: 4 });
    assert.deepEqual(handled, [0, 2]);
    assert.equal(otherGroup.length, 6, "the other group saw each message once, no redriven copy");
    assert.ok(clock.nowMs() - t0 >= 100, "the second send waited for its token");
    const left = await bus.deadLetters("t.g.dlq");
    assert.deepEqual(
      left.map((d) => JSON.parse(d.message.body.toString())),
      [1, 3, 4, 5],
    );
    const all = await bus.redrive("t.g.dlq");
    await clock.advance(10);
    assert.deepEqual(all, { redriven: 4, kept: 0 });
    assert.deepEqual(handled.sort(), [0, 1, 2, 3, 4, 5]);
    assert.equal((await bus.deadLetters("t.g.dlq")).length, 0);
    await bus.close();
  });

  it("a redriven message starts its attempts over", async () => {
    const { bus, clock } = await fakeBus();
    const attempts: number[] = [];
    let fail = true;
    await bus.subscribe("t", { group: "g", retry: retry.immediate({ attempts: 2 }) }, (m) => {
      attempts.push(m.attempt);
      if (fail) throw new Error("x");
    });
    await bus.publish("t", 1);
    await clock.advance(10);
    fail = false;
    await bus.redrive("t.g.dlq");
    await clock.advance(10);
    assert.deepEqual(attempts, [1, 2, 1]);
    await bus.close();
  });

  it("deadLetter: false drops a failed message after reporting it, and does not count it as processed", async () => {
    const errors: unknown[] = [];
    const { bus, clock } = await fakeBus({ onError: (e) => errors.push(e) });
    const sub = await bus.subscribe("t", { group: "g", retry: false, deadLetter: false }, () => {
      throw new Error("lost on purpose");
    });
    await bus.publish("t", 1);
    await clock.advance(10);
    assert.deepEqual([sub.stats.failed, sub.stats.processed, sub.stats.deadLettered], [1, 0, 0]);
    assert.match(String(errors[0]), /lost on purpose/);
    assert.equal(await sub.lag(), 0, "acked, not redelivered");
    await bus.close();
  });

  it("a body that does not decode is dead-lettered at once", async () => {
    const { bus, clock } = await fakeBus();
    let runs = 0;
    await bus.subscribe("t", { group: "g" }, () => {
      runs++;
    });
    await bus.publish("t", Buffer.from("{not json"), { serializer: { ...jsonSerializerLike } });
    await clock.advance(10);
    assert.equal(runs, 0);
    const [d] = await bus.deadLetters("t.g.dlq");
    assert.equal(d?.error.name, "NonRetryableError");
    assert.equal(d?.attempts, 1);
    await bus.close();
  });
});

/** Claims JSON but writes the bytes it is given. */
const jsonSerializerLike = {
  contentType: "application/json",
  encode: (data: unknown) => ({ body: data as Buffer }),
  decode: (body: Buffer) => JSON.parse(body.toString()),
};
