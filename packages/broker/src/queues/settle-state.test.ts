// Unit tests for durable settlement: out-of-order acks survive recovery; acks of messages lost in a
// crash never swallow the offsets that new messages get afterwards.

import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock, silentLogger } from "../lib/index.ts";
import { DEFAULT_LOG_CONFIG, MemoryLog } from "../log/index.ts";
import { SettleState } from "./settle-state.ts";

const newLog = () => new MemoryLog({ ...DEFAULT_LOG_CONFIG, retentionMs: -1 }, new FakeClock());

test("out-of-order settles are recovered", async () => {
  const acks = newLog();
  const s = await SettleState.recover(acks, 0, 10, silentLogger);
  for (const o of [0, 1, 3, 7]) s.settle(o);
  assert.equal(s.lowWater, 2);
  await s.drain();
  const r = await SettleState.recover(acks, 0, 10, silentLogger);
  assert.equal(r.lowWater, 2);
  assert.deepEqual(
    [2, 3, 4, 7].map((o) => r.isSettled(o)),
    [false, true, false, true],
  );
  assert.equal(r.countFrom(2), 2);
});

test("acks beyond the recovered message log are dropped for good", async () => {
  const acks = newLog();
  const s = await SettleState.recover(acks, 0, 10, silentLogger);
  for (const o of [0, 1, 2, 5, 6]) s.settle(o);
  await s.drain();
  // the crash kept messages 0..3 only
  const afterCrash = await SettleState.recover(acks, 0, 4, silentLogger);
  assert.equal(afterCrash.lowWater, 3);
  assert.equal(afterCrash.isSettled(5), false);
  // new messages took offsets 4..9; the old acks of 5 and 6 must not come back
  const later = await SettleState.recover(acks, 0, 10, silentLogger);
  assert.equal(later.isSettled(5), false);
  assert.equal(later.isSettled(6), false);
  assert.equal(later.isSettled(2), true);
});
