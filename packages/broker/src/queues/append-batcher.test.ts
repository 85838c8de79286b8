// Unit tests for the append batcher: one append per turn at the predicted offsets, and a message settled
// before its batch is written goes to the log without its contents (its offset only), which the reader
// hands back as null so the queue settles it; after a full disk every predicted offset still gets its message.

import assert from "node:assert/strict";
import { test } from "node:test";
import { isBrokerError, silentLogger } from "../lib/index.ts";
import { DEFAULT_LOG_CONFIG, FileLog, MemoryLog } from "../log/index.ts";
import { FakeClock, FaultFs, within } from "../testing/index.ts";
import { AppendBatcher } from "./append-batcher.ts";
import { createMessage, type Message } from "./message.ts";
import { readMessages } from "./queue-reader.ts";

const message = (body: string): Message =>
  createMessage({
    exchange: "ex",
    routingKey: "rk",
    properties: Buffer.from([0, 0]),
    body: Buffer.from(body),
    persistent: true,
  });

test("messages of one turn become one batch at the predicted offsets; settled ones lose their contents", async () => {
  const log = new MemoryLog({ ...DEFAULT_LOG_CONFIG, retentionMs: -1 }, new FakeClock());
  const settled = new Set([1, 3]);
  let batches = 0;
  const b = new AppendBatcher(
    log,
    () => batches++,
    (o) => settled.has(o),
  );
  const stored = ["a", "b", "c", "d"].map((s, i) => b.add(message(s), 1_000 + i));
  assert.equal(b.end, 4);
  assert.equal(new Set(stored).size, 1, "one promise for the whole batch");
  await stored[0];
  assert.equal(batches, 1);
  assert.equal(log.endOffset, 4);
  const read = await readMessages(log, 0, 1 << 20);
  assert.deepEqual(
    read.items.map((m) => [m.offset, m.message?.body.toString() ?? null, m.timestampMs]),
    [
      [0, "a", 1_000],
      [1, null, 1_001],
      [2, "c", 1_002],
      [3, null, 1_003],
    ],
  );
  assert.equal(read.items[2]?.message?.routingKey, "rk");
});

const settled = (p: Promise<unknown>) =>
  p.then(
    () => "stored",
    (e: unknown) => (isBrokerError(e) ? e.code : String(e)),
  );

test("a full disk: the rejected batch and those after it keep their predicted offsets and are written once space is back", async () => {
  const fs = new FaultFs();
  const log = await FileLog.open({
    fs,
    dir: "/q/messages",
    config: { ...DEFAULT_LOG_CONFIG, retentionMs: -1 },
    clock: new FakeClock(),
    logger: silentLogger,
  });
  let batches = 0;
  const b = new AppendBatcher(
    log,
    () => batches++,
    () => false,
  );
  assert.equal(await settled(b.add(message("a"), 1)), "stored");
  fs.capacityBytes = fs.usedBytes() + 10;
  const full = b.add(message("b"), 2);
  b.add(message("c"), 3);
  assert.equal(await settled(full), "DISK_FULL", "the publishers of the batch hear that it failed");
  assert.ok(b.refused !== null, "new messages are refused while the batch waits");
  assert.equal(await settled(b.refused), "DISK_FULL");
  // a batch already open keeps its place behind the held-back one, and is confirmed once written
  const behind = b.add(message("d"), 4);
  b.flush();
  assert.equal(b.end, 4);
  assert.equal(log.endOffset, 1);

  fs.capacityBytes = Number.POSITIVE_INFINITY;
  assert.equal(await within(settled(behind)), "stored");
  assert.equal(b.refused, null);
  assert.equal(await settled(b.add(message("e"), 5)), "stored");
  const read = await readMessages(log, 0, 1 << 20);
  assert.deepEqual(
    read.items.map((m) => [m.offset, m.message?.body.toString()]),
    [
      [0, "a"],
      [1, "b"],
      [2, "c"],
      [3, "d"],
      [4, "e"],
    ],
  );
  await log.close();
});
