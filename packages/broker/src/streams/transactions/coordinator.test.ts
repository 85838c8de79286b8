// The transaction coordinator over the real storage code on an in-memory disk that models crashes:
// open transactions are aborted after a crash, a transaction that was preparing to commit finishes, hung
// transactions time out, and idempotent sequences carry on across transactions and restarts.

import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeRecordBatch, TRANSACTIONAL_FLAG } from "@spindle/protocol";
import { crc32c, seededRng } from "../../lib/index.ts";
import { MetaStore } from "../../meta/index.ts";
import { FakeClock, FaultFs, RecordingLogger } from "../../testing/index.ts";
import { DEFAULT_GROUP_TIMINGS } from "../group-types.ts";
import { Groups } from "../groups.ts";
import { ProducerIds } from "../producer-ids.ts";
import { Topics } from "../topics.ts";
import { isControlBatch } from "./control-batch.ts";
import { Transactions } from "./coordinator.ts";
import { TxnStore } from "./txn-store.ts";

const fsync = { mode: "group" } as const;

async function openAll(fs: FaultFs, clock: FakeClock) {
  const logger = new RecordingLogger();
  const meta = await MetaStore.open({ fs, dir: "/data/meta", clock, logger, fsync });
  const topics = await Topics.open({
    fs,
    dataDir: "/data",
    meta,
    clock,
    logger,
    fsync,
    autoCreate: false,
    defaultPartitions: 1,
    retentionCheckMs: 3_600_000,
  });
  const groups = await Groups.open({
    fs,
    dir: "/data/offsets",
    clock,
    logger,
    fsync,
    timings: DEFAULT_GROUP_TIMINGS,
  });
  const store = await TxnStore.open({ fs, dir: "/data/transactions", clock, logger, fsync });
  const producerIds = new ProducerIds(meta);
  const txns = await Transactions.open({
    store,
    topics,
    groups,
    producerIds,
    clock,
    logger,
    abortCheckMs: 1000,
  });
  const close = async () => {
    await txns.close();
    await groups.close();
    await topics.close();
    await meta.close();
  };
  return { meta, topics, groups, store, txns, close, logger };
}

function txnBatch(producerId: number, epoch: number, seq: number, values: string[]): Buffer {
  return encodeRecordBatch(
    {
      records: values.map((v) => ({ value: Buffer.from(v) })),
      timestamp: 1,
      attributes: TRANSACTIONAL_FLAG,
      producerId,
      producerEpoch: epoch,
      baseSequence: seq,
    },
    crc32c,
  );
}

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
  const before = a.txns.abortedIn(topic.def.topicId, 0, 0, p.endOffset);
  assert.equal(before.length, 2);
  await a.close();
  const b = await openAll(fs.clone(), clock);
  assert.deepEqual(b.txns.abortedIn(topic.def.topicId, 0, 0, p.endOffset), before);
  await b.close();
});
