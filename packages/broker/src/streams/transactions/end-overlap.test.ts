// EndTxn appends its markers beside the Prepare* save (one sync round, not two in a row), and a crash that
// keeps a marker but loses the decision aborts the transaction: read_committed consumers are told its records
// are aborted and its offsets are not committed.

import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRng } from "../../lib/index.ts";
import { FakeClock, FaultFs } from "../../testing/index.ts";
import { isControlBatch } from "./control-batch.ts";
import { openAll, txnBatch } from "./txn-test-setup.ts";
import type { TxnRecord } from "./txn-types.ts";

test("the commit marker is written while PrepareCommit is stored; a crash losing the decision aborts", async () => {
  let fs = new FaultFs();
  const clock = new FakeClock();
  const a = await openAll(fs, clock);
  const topic = await a.topics.create("t", 1, []);
  const topicId = topic.def.topicId;
  const p = topic.partitions[0]!;
  const { producerId: pid } = await a.txns.initProducerId("tx", 60_000);
  assert.equal(await a.txns.addPartitions("tx", pid, 0, [{ topic: "t", partition: 0 }]), "NONE");
  assert.equal(await a.txns.addOffsets("tx", pid, 0, "g"), "NONE");
  const offsets = [{ topic: "in", partition: 0, offset: 7, metadata: null }];
  const input = { groupId: "g", generationId: -1, memberId: "", groupInstanceId: null, offsets };
  assert.equal(await a.txns.txnOffsetCommit("tx", pid, 0, input), "NONE");
  await p.appendChecked(txnBatch(pid, 0, 0, ["a", "b"])).result;

  // the decision's save is held back; the marker must not wait for it
  let release = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const save = a.store.save.bind(a.store);
  a.store.save = async (t: TxnRecord, added) => {
    if (t.state === "PrepareCommit") await gate;
    return save(t, added);
  };
  const marker = new Promise<number>((resolve) => {
    const appendMarker = p.appendMarker.bind(p);
    p.appendMarker = (...args) => {
      const r = appendMarker(...args);
      void r.then((x) => resolve(x.baseOffset));
      return r;
    };
  });
  let answer: string | undefined;
  const ending = a.txns.endTxn("tx", pid, 0, true).then((e) => {
    answer = e;
  });
  let markerAt: number | undefined;
  void marker.then((o) => {
    markerAt = o;
  });
  // an in-memory disk: the marker's append takes a few turns of the event loop, not time
  for (let i = 0; i < 1000 && markerAt === undefined; i++) await new Promise((r) => setImmediate(r));
  assert.equal(markerAt, 2, "the marker is durable before the decision is");
  assert.equal(answer, undefined, "no answer before the decision is durable");
  assert.equal(a.txns.lastStableOffset(topicId, 0, p.endOffset), 0, "the LSO waits for the decision");

  fs = fs.crash(seededRng(7));
  release();
  await ending;
  await a.txns.settled();
  const b = await openAll(fs, clock);
  assert.equal(b.txns.describe("tx")?.state, "CompleteAbort", "the lost decision is an abort");
  const p2 = b.topics.partition("t", 0)!;
  assert.equal(p2.endOffset, 4, "two records, the commit marker, the abort marker");
  assert.ok(isControlBatch((await p2.log.read(3, 1 << 20)).data));
  assert.deepEqual(b.txns.abortedIn(topicId, 0, 0, p2.endOffset), [
    { producerId: pid, firstOffset: 0, lastOffset: 3 },
  ]);
  assert.equal(b.txns.lastStableOffset(topicId, 0, p2.endOffset), 4);
  assert.equal(b.groups.committed("g", "in", 0), undefined, "its offsets are not committed");
  await b.close();
});
