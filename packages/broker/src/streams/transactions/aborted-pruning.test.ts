// Aborted ranges are forgotten once their records are gone: a deleted topic's at once on the next check,
// and those below a partition's log start after DeleteRecords or retention — in memory and in the store.

import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRng } from "../../lib/index.ts";
import { FakeClock, FaultFs } from "../../testing/index.ts";
import { openAll, txnBatch } from "./txn-test-setup.ts";

type Opened = Awaited<ReturnType<typeof openAll>>;

/** One aborted transaction of `id` writing `values` into partition 0 of `topic`. */
async function abortOne(a: Opened, id: string, topic: string, values: string[]): Promise<void> {
  const init = await a.txns.initProducerId(id, 60_000);
  const { producerId, epoch } = init;
  assert.equal(await a.txns.addPartitions(id, producerId, epoch, [{ topic, partition: 0 }]), "NONE");
  await a.topics.partition(topic, 0)!.appendChecked(txnBatch(producerId, epoch, 0, values)).result;
  assert.equal(await a.txns.endTxn(id, producerId, epoch, false), "NONE");
  await a.txns.settled();
}

/** The periodic check (abort timeouts, prune ranges) and the store writes it starts. */
async function check(a: Opened, clock: FakeClock): Promise<void> {
  clock.advance(1000);
  await a.txns.settled();
}

test("a deleted topic's aborted ranges are forgotten, also by the store across a restart", async () => {
  let fs = new FaultFs();
  const clock = new FakeClock();
  const a = await openAll(fs, clock);
  const gone = (await a.topics.create("gone", 1, [])).def.topicId;
  const kept = (await a.topics.create("kept", 1, [])).def.topicId;
  await abortOne(a, "tx1", "gone", ["a", "b"]);
  await abortOne(a, "tx2", "kept", ["c"]);
  assert.equal(a.txns.abortedIn(gone, 0, 0, 100).length, 1);

  await a.topics.delete("gone");
  await check(a, clock);
  assert.deepEqual(a.txns.abortedIn(gone, 0, 0, 100), []);
  assert.equal(a.txns.abortedIn(kept, 0, 0, 100).length, 1, "other topics keep theirs");
  assert.deepEqual(
    a.store.aborted().map((r) => r.topicId),
    [kept],
    "the store forgot them too",
  );
  await a.close();

  fs = fs.crash(seededRng(2));
  const b = await openAll(fs, clock);
  assert.deepEqual(b.txns.abortedIn(gone, 0, 0, 100), []);
  assert.equal(b.txns.abortedIn(kept, 0, 0, 100).length, 1);
  await b.close();
});

test("ranges wholly below the log start (DeleteRecords) are forgotten; one it still overlaps is kept", async () => {
  const fs = new FaultFs();
  const clock = new FakeClock();
  const a = await openAll(fs, clock);
  const topicId = (await a.topics.create("t", 1, [])).def.topicId;
  await abortOne(a, "tx", "t", ["a", "b"]); // offsets 0-1, marker 2
  await abortOne(a, "tx", "t", ["c", "d"]); // offsets 3-4, marker 5
  const p = a.topics.partition("t", 0)!;
  assert.equal(a.txns.abortedIn(topicId, 0, 0, p.endOffset).length, 2);

  await p.log.deleteRecordsBefore(4);
  await check(a, clock);
  assert.deepEqual(
    a.txns.abortedIn(topicId, 0, 0, p.endOffset).map((r) => [r.firstOffset, r.lastOffset]),
    [[3, 5]],
  );
  assert.deepEqual(
    a.store.aborted().map((r) => r.firstOffset),
    [3],
  );
  await a.close();
});

test("ranges in segments retention deleted are forgotten", async () => {
  const fs = new FaultFs();
  const clock = new FakeClock();
  const a = await openAll(fs, clock);
  const config: [string, string][] = [
    ["retention.ms", "1000"],
    ["segment.bytes", "1024"],
  ];
  const topicId = (await a.topics.create("t", 1, config)).def.topicId;
  for (let i = 0; i < 6; i++) await abortOne(a, "tx", "t", ["x".repeat(300)]);
  const p = a.topics.partition("t", 0)!;
  assert.equal(a.txns.abortedIn(topicId, 0, 0, p.endOffset).length, 6);

  clock.advance(10_000);
  assert.ok((await a.topics.runRetention()) > 0, "retention deleted segments");
  await check(a, clock);
  const left = a.txns.abortedIn(topicId, 0, 0, p.endOffset);
  assert.ok(left.length < 6);
  assert.ok(left.every((r) => r.lastOffset >= p.startOffset));
  assert.equal(a.store.aborted().length, left.length);
  await a.close();
});
