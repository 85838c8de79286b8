// Unit tests of the delayed-message index and of DelayedMessages on a memory log: releases come in
// (due, offset) order, each exactly once, while memory holds at most 2 × capacity index entries.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { systemClock } from "../lib/index.ts";
import { DEFAULT_LOG_CONFIG, MemoryLog } from "../log/index.ts";
import { before, type DelayEntry, DelayIndex, Smallest } from "./delay-index.ts";
import { DelayedMessages } from "./delayed.ts";
import { createMessage, type Message } from "./message.ts";
import { SettleState } from "./settle-state.ts";

const sorted = (es: DelayEntry[]) => [...es].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));

test("DelayIndex with refills from the 'log' pops every entry once, in order, within its bound", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 300 }),
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 0, max: 300 }),
      (dues, capacity, popsBetween) => {
        const idx = new DelayIndex(capacity);
        const all: DelayEntry[] = dues.map((due, offset) => ({ due, offset, message: null }));
        const released = new Set<number>();
        const popped: DelayEntry[] = [];
        const pop = () => {
          if (idx.needsRefill) {
            // the log: every entry added and not yet released
            const s = new Smallest(capacity);
            for (const e of all.slice(0, added)) if (!released.has(e.offset)) s.add(e);
            idx.refilled(s);
          }
          const e = idx.pop();
          if (e !== undefined) {
            assert.ok(!released.has(e.offset), "popped twice");
            released.add(e.offset);
            popped.push(e);
          }
          assert.ok(idx.size <= 2 * capacity);
        };
        let added = 0;
        for (const e of all) {
          idx.add(e);
          added++;
          assert.ok(idx.size <= 2 * capacity);
          if (added === popsBetween) pop();
        }
        const afterAll = popped.length;
        while (released.size < all.length) pop();
        // once everything is added, the rest come out in (due, offset) order
        const tail = popped.slice(afterAll);
        assert.deepEqual(tail, sorted(tail));
        assert.equal(new Set(popped.map((e) => e.offset)).size, all.length);
      },
    ),
  );
});

function message(body: string, delayMs: number, persistent = true): Message {
  return createMessage({
    exchange: "d",
    routingKey: "",
    properties: Buffer.alloc(2),
    body: Buffer.from(body),
    persistent,
    delayMs,
  });
}

for (const bodyBytesMax of [0, 1 << 20]) {
  const how = bodyBytesMax === 0 ? "every message read back from the log" : "messages kept in memory";
  test(`DelayedMessages releases by due time, index far smaller than what it holds (${how})`, async () => {
    const log = new MemoryLog({ ...DEFAULT_LOG_CONFIG, fsync: { mode: "never" } }, systemClock);
    const released: string[] = [];
    const held = new DelayedMessages(
      "amq.delayed.d",
      log,
      SettleState.fresh(0),
      systemClock,
      (m) => released.push(m.body.toString()),
      (err) => assert.fail(String(err)),
      4,
      bodyBytesMax,
    );
    await held.start();
    const n = 300;
    const delays = Array.from({ length: n }, (_, i) => 20 + ((i * 7919) % 400));
    for (let i = 0; i < n; i++) held.enqueue(message(String(i), delays[i] as number));
    assert.ok(held.indexed <= 8, `index holds ${held.indexed}`);
    const deadline = Date.now() + 5000;
    while (released.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const expected = Array.from({ length: n }, (_, i) => i)
      .sort((a, b) => (delays[a] as number) - (delays[b] as number) || a - b)
      .map(String);
    // publishes within one ms can share a due time and come out by offset: equal to the expected order
    // up to messages whose due times were within the enqueue loop's few milliseconds of each other
    assert.equal(released.length, n);
    assert.equal(new Set(released).size, n, "each released once");
    const pos = new Map(released.map((b, i) => [b, i]));
    let inversions = 0;
    for (let i = 1; i < n; i++)
      if ((pos.get(expected[i] as string) as number) < (pos.get(expected[i - 1] as string) as number)) {
        const a = Number(expected[i - 1]);
        const b = Number(expected[i]);
        if (Math.abs((delays[a] as number) - (delays[b] as number)) > 15) inversions++;
      }
    assert.equal(inversions, 0, `released ${released.slice(0, 20).join(",")}…`);
    await held.close();
  });
}
