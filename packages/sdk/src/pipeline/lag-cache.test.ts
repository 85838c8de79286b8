import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fakeBus } from "../testing/fake-bus.ts";
import { FakeClock } from "../testing/fake-clock.ts";
import { LAG_TTL_MS, LagCache } from "./lag-cache.ts";

describe("lag() is asked of the broker at most once a second per subscription (fake clock)", () => {
  it("on memory://: calls within a second share one answer, the next second asks again", async () => {
    const { bus, clock } = await fakeBus();
    const sub = await bus.subscribe("t", { group: "g" }, () => {});
    sub.pause();
    for (let i = 0; i < 3; i++) await bus.publish("t", i);
    const answers = await Promise.all(Array.from({ length: 20 }, () => sub.lag()));
    assert.deepEqual(new Set(answers), new Set([3]));
    for (let i = 0; i < 2; i++) await bus.publish("t", i);
    assert.equal(await sub.lag(), 3, "the broker was not asked again: the answer is under a second old");
    await clock.advance(LAG_TTL_MS - 1);
    assert.equal(await sub.lag(), 3);
    await clock.advance(1);
    assert.equal(await sub.lag(), 5, "a second on, the broker is asked again");
    await bus.close();
  });

  it("shares an answer in flight; a failed answer is not kept", async () => {
    const clock = new FakeClock();
    let asks = 0;
    let fail = false;
    const cache = new LagCache(clock, async () => {
      asks++;
      if (fail) throw new Error("broker unreachable");
      return asks;
    });
    const first = await Promise.all([cache.get(), cache.get(), cache.get()]);
    assert.deepEqual([first, asks], [[1, 1, 1], 1]);
    await clock.advance(LAG_TTL_MS);
    fail = true;
    await assert.rejects(cache.get(), /unreachable/);
    fail = false;
    assert.equal(await cache.get(), 3, "asked again at once after the failure");
    assert.equal(await cache.get(), 3);
    assert.equal(asks, 3);
  });
});
