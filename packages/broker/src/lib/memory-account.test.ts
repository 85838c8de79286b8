// Unit tests for the memory account: totals by kind, and watchers that hear each rise above their level
// once. Invariant: a watcher is re-armed only by the total falling back to its level.

import assert from "node:assert/strict";
import { test } from "node:test";
import { MemoryAccount } from "./memory-account.ts";

const microtasks = () => new Promise((r) => setImmediate(r));

test("totals by kind; a watcher hears each rise above its level once, after the caller returns", async () => {
  const m = new MemoryAccount();
  let heard = 0;
  m.watch(100, () => heard++);
  m.add("queueWindows", 60);
  m.add("amqpBodies", 50);
  assert.equal(heard, 0, "not from inside add()");
  await microtasks();
  assert.equal(heard, 1);
  m.add("amqpBodies", 10);
  await microtasks();
  assert.equal(heard, 1, "still above: not heard again");
  m.add("queueWindows", -60);
  m.add("queueWindows", 60);
  await microtasks();
  assert.equal(heard, 2, "fell to the level and rose again");
  assert.deepEqual(
    { ...m.byKind(), total: m.totalBytes },
    {
      queueWindows: 60,
      queueRequeued: 0,
      amqpBodies: 60,
      amqpUnacked: 0,
      amqpUnstored: 0,
      amqpOutboxes: 0,
      kafkaRequests: 0,
      kafkaResponses: 0,
      total: 120,
    },
  );
});
