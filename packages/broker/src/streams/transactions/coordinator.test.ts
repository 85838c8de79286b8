// The transaction coordinator over the real storage code on an in-memory disk that models crashes:
// open transactions are aborted after a crash, a transaction that was preparing to commit finishes, hung
// transactions time out, and idempotent sequences carry on across transactions and restarts.

import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRng } from "../../lib/index.ts";
import { FakeClock, FaultFs } from "../../testing/index.ts";
import type { Topics } from "../topics.ts";
import { isControlBatch } from "./control-batch.ts";
import { openAll, txnBatch } from "./txn-test-setup.ts";

async function lastBatch(topics: Topics, name: string): Promise<Buffer> {
  const p = topics.partition(name, 0)!;
  const { data } = await p.log.read(p.endOffset - 1, 1 << 20);
  return data;
}

test("a crash with a transaction open: it is aborted under a new epoch at restart and the LSO is the end", async () => {
  let fs = new FaultFs();
  const clock = new FakeClock();
  const a = await openAll(fs, clock);
  const topic = await a.topics.create("t", 1, []);
  const init = await a.txns.initProducerId("tx", 60_000);
  assert.equal(init.error, "NONE");
  assert.equal(await a.txns.addPartitions("tx", init.producerId, 0, [{ topic: "t", partition: 0 }]), "NONE");
  assert.equal(await a.txns.addOffsets("tx", init.producerId, 0, "g"), "NONE");
  const offsets = [{ topic: "t", partition: 0, offset: 2, metadata: null }];
  const input = { groupId: "g", generationId: -1, memberId: "", groupInstanceId: null, offsets };
  assert.equal(await a.txns.txnOffsetCommit("tx", init.producerId, 0, input), "NONE");
  const p = topic.partitions[0]!;
  const r = p.appendChecked(txnBatch(init.producerId, 0, 0, ["a", "b"]));
  await r.result;
  const topicId = topic.def.topicId;
  assert.equal(a.txns.lastStableOffset(topicId, 0, p.endOffset), 0, "held at the open transaction");

  fs = fs.crash(seededRng(1));
  const b = await openAll(fs, clock);
  const p2 = b.topics.partition("t", 0)!;
  assert.equal(p2.endOffset, 3, "two records and the abort marker");
  assert.ok(isControlBatch(await lastBatch(b.topics, "t")));
  assert.equal(b.txns.lastStableOffset(topicId, 0, p2.endOffset), 3);
  assert.deepEqual(b.txns.abortedIn(topicId, 0, 0, 3), [
    { producerId: init.producerId, firstOffset: 0, lastOffset: 2 },
  ]);
  assert.equal(b.groups.committed("g", "t", 0), undefined, "the aborted transaction's offsets are dropped");
  const d = b.txns.describe("tx")!;
  assert.equal(d.state, "CompleteAbort");
  assert.equal(d.epoch, 1, "the abort fenced the old producer");
  assert.equal(await b.txns.endTxn("tx", init.producerId, 0, true), "PRODUCER_FENCED");
  await b.close();
});

test("a transaction stored as PrepareCommit at a crash is committed at restart: markers and offsets", async () => {
  let fs = new FaultFs();
  const clock = new FakeClock();
  const a = await openAll(fs, clock);
  const topic = await a.topics.create("t", 2, []);
  const init = await a.txns.initProducerId("tx", 60_000);
  await a.txns.addPartitions("tx", init.producerId, 0, [
    { topic: "t", partition: 0 },
    { topic: "t", partition: 1 },
  ]);
  for (const p of topic.partitions) await p.appendChecked(txnBatch(init.producerId, 0, 0, ["x"])).result;
  // what EndTxn stores before it writes any marker: a crash right after it
  const prepared = { ...a.txns.describe("tx")!, state: "PrepareCommit" as const };
  prepared.offsets = [{ groupId: "g", topic: "t", partition: 0, offset: 5, metadata: "m" }];
  await a.store.save(prepared);
  fs = fs.crash(seededRng(2));

  const b = await openAll(fs, clock);
  for (const i of [0, 1]) {
    const p = b.topics.partition("t", i)!;
    assert.equal(p.endOffset, 2);
    assert.ok(
      isControlBatch(
        await b.topics
          .partition("t", i)!
          .log.read(1, 1 << 20)
          .then((r) => r.data),
      ),
    );
    assert.equal(b.txns.lastStableOffset(topic.def.topicId, i, p.endOffset), 2);
    assert.deepEqual(b.txns.abortedIn(topic.def.topicId, i, 0, 2), []);
  }
  assert.equal(b.groups.committed("g", "t", 0)?.offset, 5);
  assert.equal(b.txns.describe("tx")?.state, "CompleteCommit");
  assert.equal(b.txns.describe("tx")?.epoch, 0, "a commit does not bump the epoch");
  await b.close();
});

test("a transaction past its timeout is aborted and its producer fenced", async () => {
  const fs = new FaultFs();
  const clock = new FakeClock();
  const a = await openAll(fs, clock);
  const topic = await a.topics.create("t", 1, []);
  const init = await a.txns.initProducerId("tx", 5_000);
  await a.txns.addPartitions("tx", init.producerId, 0, [{ topic: "t", partition: 0 }]);
  clock.advance(4_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(a.txns.describe("tx")?.state, "Ongoing", "not before its timeout");
  clock.advance(2_000);
  for (let i = 0; i < 50 && a.txns.describe("tx")?.state !== "CompleteAbort"; i++)
    await new Promise((r) => setImmediate(r));
  assert.equal(a.txns.describe("tx")?.state, "CompleteAbort");
  assert.equal(a.txns.checkProduce(init.producerId, 0, topic.def.topicId, 0), "INVALID_PRODUCER_EPOCH");
  assert.equal(
    await a.txns.addPartitions("tx", init.producerId, 0, [{ topic: "t", partition: 0 }]),
    "PRODUCER_FENCED",
  );
  await a.close();
});

test("idempotent sequences carry on across transactions and a restart (markers have no sequence)", async () => {
  let fs = new FaultFs();
  const clock = new FakeClock();
  const a = await openAll(fs, clock);
  await a.topics.create("t", 1, []);
  const init = await a.txns.initProducerId("tx", 60_000);
  const pid = init.producerId;
  await a.txns.addPartitions("tx", pid, 0, [{ topic: "t", partition: 0 }]);
  await a.topics.partition("t", 0)!.appendChecked(txnBatch(pid, 0, 0, ["a", "b"])).result;
  assert.equal(await a.txns.endTxn("tx", pid, 0, true), "NONE");
  await a.close();
  fs = fs.clone();
  const b = await openAll(fs, clock);
  const p = b.topics.partition("t", 0)!;
  await p.recoverProducers();
  await b.txns.addPartitions("tx", pid, 0, [{ topic: "t", partition: 0 }]);
  const next = p.appendChecked(txnBatch(pid, 0, 2, ["c"]));
  assert.equal(next.outcome.kind, "append", "sequence 2 follows 0-1 across the marker");
  await next.result;
  assert.equal(p.appendChecked(txnBatch(pid, 0, 2, ["c"])).outcome.kind, "duplicate");
  await b.close();
});

test("a transactional id idle past transactional.id.expiration.ms is forgotten, durably", async () => {
  const fs = new FaultFs();
  const clock = new FakeClock();
  const a = await openAll(fs, clock);
  const idle = await a.txns.initProducerId("idle", 60_000);
  const hour = 3_600_000;
  clock.advance(6 * 24 * hour);
  await a.txns.initProducerId("recent", 60_000);
  clock.advance(24 * hour + hour);
  for (let i = 0; i < 50 && a.txns.describe("idle") !== undefined; i++)
    await new Promise((r) => setImmediate(r));
  assert.equal(a.txns.describe("idle"), undefined);
  assert.equal(a.txns.describe("recent")?.state, "Empty", "used a day ago: kept");
  assert.equal(a.txns.checkProduce(idle.producerId, 0, "x", 0), "INVALID_PRODUCER_ID_MAPPING");
  await a.close();
  const b = await openAll(fs.clone(), clock);
  assert.equal(b.txns.describe("idle"), undefined, "forgotten durably");
  assert.equal(b.txns.describe("recent")?.state, "Empty");
  await b.close();
});

test("a full disk answers COORDINATOR_NOT_AVAILABLE and changes nothing; the retry after space is freed works", async () => {
  const fs = new FaultFs();
  const clock = new FakeClock();
  const a = await openAll(fs, clock);
  await a.topics.create("t", 1, []);
  const init = await a.txns.initProducerId("tx", 60_000);
  fs.capacityBytes = fs.usedBytes();
  const add = () => a.txns.addPartitions("tx", init.producerId, 0, [{ topic: "t", partition: 0 }]);
  assert.equal(await add(), "COORDINATOR_NOT_AVAILABLE");
  const d = a.txns.describe("tx");
  assert.equal(d?.state, "Empty", "the failed change is not half-applied");
  assert.deepEqual(d?.partitions, []);
  fs.capacityBytes = Number.POSITIVE_INFINITY;
  let outcome = await add();
  // the store's log probes for free space with back-off (real timers, from 50 ms) before it takes appends again
  for (let i = 0; i < 40 && outcome !== "NONE"; i++) {
    await new Promise((r) => setTimeout(r, 100));
    outcome = await add();
  }
  assert.equal(outcome, "NONE");
  assert.equal(a.txns.describe("tx")?.partitions.length, 1);
  await a.close();
});

test("two transactions that joined a partition at the same offset and aborted both stay aborted after a restart", async () => {
  const fs = new FaultFs();
  const clock = new FakeClock();
  const a = await openAll(fs, clock);
  const topic = await a.topics.create("t", 1, []);
  const p = topic.partitions[0]!;
  const ids = [];
  for (const id of ["tx-a", "tx-b"]) {
    const init = await a.txns.initProducerId(id, 60_000);
    await a.txns.addPartitions(id, init.producerId, 0, [{ topic: "t", partition: 0 }]);
    ids.push(init.producerId);
  }
  for (const pid of ids) await p.appendChecked(txnBatch(pid, 0, 0, ["x"])).result;
  for (const [i, id] of ["tx-a", "tx-b"].entries())
    assert.equal(await a.txns.endTxn(id, ids[i]!, 0, false), "NONE");
  await a.txns.settled(); // the markers (and so the ranges) follow the answer
  const before = a.txns.abortedIn(topic.def.topicId, 0, 0, p.endOffset);
  assert.equal(before.length, 2);
  await a.close();
  const b = await openAll(fs.clone(), clock);
  assert.deepEqual(b.txns.abortedIn(topic.def.topicId, 0, 0, p.endOffset), before);
  await b.close();
});

test("EndTxn answers after PrepareCommit is durable, not after the markers: a crash then still commits", async () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    let fs = new FaultFs();
    const clock = new FakeClock();
    const a = await openAll(fs, clock);
    const topic = await a.topics.create("t", 2, []);
    const init = await a.txns.initProducerId("tx", 60_000);
    const pid = init.producerId;
    const both = [0, 1].map((partition) => ({ topic: "t", partition }));
    assert.equal(await a.txns.addPartitions("tx", pid, 0, both), "NONE");
    for (const p of topic.partitions) await p.appendChecked(txnBatch(pid, 0, 0, ["x"])).result;
    // the decision cannot be stored: the answer must say so, not NONE
    fs.failOn("datasync");
    assert.equal(await a.txns.endTxn("tx", pid, 0, true), "COORDINATOR_NOT_AVAILABLE");
    assert.notEqual(a.txns.describe("tx")?.state, "CompleteCommit");
    fs.clearFailures();
    fs = fs.crash(seededRng(seed));
    await a.txns.settled();
    const b = await openAll(fs, clock);
    // the decision was written but never synced: a crash keeps it or not, and restart finishes either way
    assert.match(b.txns.describe("tx")?.state ?? "", /^Complete(Commit|Abort)$/);
    const pid2 = (await b.txns.initProducerId("tx", 60_000)).producerId;
    const epoch = b.txns.describe("tx")!.epoch;
    assert.equal(await b.txns.addPartitions("tx", pid2, epoch, both), "NONE");
    const ps = [0, 1].map((i) => b.topics.partition("t", i)!);
    for (const p of ps) await p.appendChecked(txnBatch(pid2, epoch, 0, ["y"])).result;
    const ends = ps.map((p) => p.endOffset);
    assert.equal(await b.txns.endTxn("tx", pid2, epoch, true), "NONE");
    // crash at once after the answer: the markers may not be written, the decision is
    fs = fs.crash(seededRng(seed));
    await b.txns.settled();
    const c = await openAll(fs, clock);
    assert.equal(c.txns.describe("tx")?.state, "CompleteCommit", `seed ${seed}`);
    for (const [i, end] of ends.entries()) {
      const p = c.topics.partition("t", i)!;
      assert.ok(p.endOffset > end, "a commit marker follows the data");
      assert.ok(isControlBatch((await p.log.read(end, 1 << 20)).data));
      assert.equal(c.txns.lastStableOffset(topic.def.topicId, i, p.endOffset), p.endOffset);
      assert.deepEqual(c.txns.abortedIn(topic.def.topicId, i, end - 1, p.endOffset), []);
    }
    await c.close();
  }
});

test("while the markers are written after EndTxn's answer, the LSO stays at the transaction and its id waits", async () => {
  const fs = new FaultFs();
  const clock = new FakeClock();
  const a = await openAll(fs, clock);
  const topic = await a.topics.create("t", 1, []);
  const topicId = topic.def.topicId;
  const p = topic.partitions[0]!;
  const init = await a.txns.initProducerId("tx", 60_000);
  const pid = init.producerId;
  const one = [{ topic: "t", partition: 0 }];
  assert.equal(await a.txns.addPartitions("tx", pid, 0, one), "NONE");
  await p.appendChecked(txnBatch(pid, 0, 0, ["a", "b"])).result;
  // hold the marker back (the partition's real append runs once released)
  let release = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const appendMarker = p.appendMarker.bind(p);
  p.appendMarker = async (...args) => {
    await gate;
    return appendMarker(...args);
  };
  assert.equal(await a.txns.endTxn("tx", pid, 0, true), "NONE", "answered before the marker");
  assert.equal(a.txns.describe("tx")?.state, "PrepareCommit");
  assert.equal(a.txns.lastStableOffset(topicId, 0, p.endOffset), 0, "held at the completing transaction");
  let next: string | undefined;
  const nextAdd = a.txns.addPartitions("tx", pid, 0, one).then((e) => {
    next = e as string;
  });
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  assert.equal(next, undefined, "the next transaction waits for the markers");
  assert.equal(a.txns.lastStableOffset(topicId, 0, p.endOffset), 0);
  release();
  await nextAdd;
  assert.equal(next, "NONE");
  assert.equal(p.endOffset, 3, "two records and the marker");
  assert.ok(isControlBatch(await lastBatch(a.topics, "t")));
  assert.equal(a.txns.describe("tx")?.state, "Ongoing", "the next transaction began after the marker");
  assert.equal(a.txns.lastStableOffset(topicId, 0, p.endOffset), 3, "moves once the marker is written");
  await a.close();
});
