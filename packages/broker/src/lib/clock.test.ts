// Unit tests of the clocks' timers: the system clock waits out durations past setTimeout's 2^31-1 ms limit
// (Node fires those after 1 ms); the fake clock runs timers only when advanced, in due order.

import assert from "node:assert/strict";
import { afterEach, describe, mock, test } from "node:test";
import { FakeClock } from "../testing/index.ts";
import { systemClock, TIMER_MS_MAX } from "./clock.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

describe("systemClock timers", () => {
  afterEach(() => mock.timers.reset());

  test("a 30-day timer waits 30 days, in chunks setTimeout accepts", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    let fired = 0;
    systemClock.setTimer(30 * DAY_MS, () => fired++);
    mock.timers.tick(1000);
    assert.equal(fired, 0, "not after a second (a bare setTimeout fires after 1 ms)");
    mock.timers.tick(TIMER_MS_MAX - 1000);
    assert.equal(fired, 0, "not after the first chunk");
    mock.timers.tick(30 * DAY_MS - TIMER_MS_MAX - 1);
    assert.equal(fired, 0, "not 1 ms early");
    mock.timers.tick(1);
    assert.equal(fired, 1);
    mock.timers.tick(60 * DAY_MS);
    assert.equal(fired, 1, "once");
  });

  test("a long timer can be cleared between its chunks; Infinity never fires", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    let fired = 0;
    const t = systemClock.setTimer(2 * TIMER_MS_MAX, () => fired++);
    systemClock.setTimer(Number.POSITIVE_INFINITY, () => fired++);
    mock.timers.tick(TIMER_MS_MAX + 5);
    systemClock.clearTimer(t);
    assert.equal(t.cancelled, true);
    mock.timers.tick(10 * TIMER_MS_MAX);
    assert.equal(fired, 0);
  });

  test("a repeating timer with a long period fires once per period", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    let fired = 0;
    const t = systemClock.setRepeating(TIMER_MS_MAX + 10, () => fired++);
    for (let i = 1; i <= 3; i++) {
      mock.timers.tick(TIMER_MS_MAX);
      mock.timers.tick(9);
      assert.equal(fired, i - 1, `period ${i} not over`);
      mock.timers.tick(1);
      assert.equal(fired, i, `period ${i} over`);
    }
    systemClock.clearTimer(t);
    mock.timers.tick(10 * TIMER_MS_MAX);
    assert.equal(fired, 3);
  });

  test("real time: a 30-day timer has not fired after 100 ms", async () => {
    let fired = 0;
    const t = systemClock.setTimer(30 * DAY_MS, () => fired++);
    await new Promise((r) => setTimeout(r, 100));
    systemClock.clearTimer(t);
    assert.equal(fired, 0);
  });
});

describe("FakeClock timers", () => {
  test("fire only when advanced past their due time, in due order, ties in the order set", () => {
    const clock = new FakeClock(0);
    const seen: string[] = [];
    const at = (name: string) => () => seen.push(`${name}@${clock.nowMs()}`);
    clock.setTimer(30, at("c"));
    clock.setTimer(10, at("a"));
    clock.setTimer(20, at("b1"));
    clock.setTimer(20, at("b2"));
    clock.advance(9);
    assert.deepEqual(seen, []);
    clock.advance(100);
    assert.deepEqual(seen, ["a@10", "b1@20", "b2@20", "c@30"]);
    assert.equal(clock.nowMs(), 109);
    assert.equal(clock.pendingTimers, 0);
  });

  test("timers set by a callback run within the same advance; cleared ones never", () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    const doomed = clock.setTimer(15, () => seen.push(-1));
    clock.setTimer(10, () => {
      seen.push(clock.nowMs());
      clock.clearTimer(doomed);
      clock.setTimer(5, () => seen.push(clock.nowMs()));
    });
    clock.advance(20);
    assert.deepEqual(seen, [10, 15]);
  });

  test("repeating timers fire every period until cleared, interleaved with one-shot timers", () => {
    const clock = new FakeClock(0);
    const seen: string[] = [];
    const r = clock.setRepeating(10, () => seen.push(`r${clock.nowMs()}`));
    clock.setTimer(25, () => seen.push(`t${clock.nowMs()}`));
    clock.advance(35);
    clock.clearTimer(r);
    clock.advance(100);
    assert.deepEqual(seen, ["r10", "r20", "t25", "r30"]);
  });

  test("a 30-day timer fires once, 30 days later", () => {
    const clock = new FakeClock(0);
    let fired = 0;
    clock.setTimer(30 * DAY_MS, () => fired++);
    clock.advance(30 * DAY_MS - 1);
    assert.equal(fired, 0);
    clock.advance(1);
    assert.equal(fired, 1);
  });
});
