// Unit tests for the Kafka request budget: the broker-wide bound, one connection's share, first fit among
// waiters, and what a closed connection gives back. Invariant: held bytes never pass the bound.

import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryAccount } from "../../lib/index.ts";
import { RequestBudget } from "./request-budget.ts";

test("a frame that does not fit waits; smaller ones that fit go ahead; a release grants the waiter", () => {
  const memory = new MemoryAccount();
  const budget = new RequestBudget(100, 60, memory);
  const [a, b, c] = [{}, {}, {}];
  const granted: string[] = [];
  assert.equal(
    budget.take(a, 60, () => granted.push("a")),
    true,
  );
  assert.equal(
    budget.take(b, 50, () => granted.push("b")),
    false,
    "60 + 50 > 100",
  );
  assert.equal(
    budget.take(c, 10, () => granted.push("c")),
    true,
    "a small request is not stuck behind the big one",
  );
  assert.equal(budget.heldBytes, 70);
  budget.release(a, 60);
  assert.deepEqual(granted, ["b"]);
  assert.equal(budget.heldBytes, 60);
  assert.equal(memory.byKind().kafkaRequests, 60);
});

test("one connection holds at most its share, except a first frame", () => {
  const budget = new RequestBudget(1000, 60);
  const a = {};
  assert.equal(
    budget.take(a, 50, () => undefined),
    true,
  );
  let granted = false;
  assert.equal(
    budget.take(a, 20, () => {
      granted = true;
    }),
    false,
    "50 + 20 > its share of 60",
  );
  budget.release(a, 50);
  assert.equal(granted, true, "its own release lets it go on");
});

test("a dropped connection's wait ends and what it held is released", () => {
  const memory = new MemoryAccount();
  const budget = new RequestBudget(100, 100, memory);
  const [a, b] = [{}, {}];
  budget.take(a, 80, () => undefined);
  budget.charge(a, 5);
  let bGranted = false;
  budget.take(b, 30, () => {
    bGranted = true;
  });
  budget.take(a, 50, () => assert.fail("a is gone"));
  budget.drop(a);
  assert.equal(bGranted, true);
  assert.equal(budget.heldBytes, 30);
  budget.drop(b);
  assert.equal(budget.heldBytes, 0);
  assert.equal(memory.totalBytes, 0);
});
