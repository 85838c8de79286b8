// Kafka transactions with unmodified kafkajs against a real spindle process: commit, abort, read_committed
// consumers, offsets sent in a transaction, fencing of an older producer, and the wire answers of
// FindCoordinator, Fetch (last stable offset, aborted transactions), DescribeTransactions and ListTransactions.
// Invariant: every check uses an unmodified client or the raw wire answer.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type {
  DescribeProducersResponse,
  DescribeTransactionsResponse,
  FetchResponse,
  FindCoordinatorResponse,
  ListTransactionsResponse,
} from "@spindle/protocol";
import { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";
import { request } from "./raw-client.ts";

let spindle: SpindleProcess;
let kafka: Kafka;

before(async () => {
  spindle = await startSpindle();
  kafka = new Kafka({
    clientId: "tx",
    brokers: [spindle.kafka],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3 },
  });
});
after(async () => {
  await spindle.stop();
});

/** Polls `read` until it returns `want` (or 5 s pass); returns the last value read. */
async function eventually<T>(read: () => Promise<T>, want: T): Promise<T> {
  let v = await read();
  for (let i = 0; i < 100 && v !== want; i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  return v;
}

async function createTopic(topic: string, numPartitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await admin.disconnect();
}

async function txProducer(transactionalId: string) {
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return producer;
}

/** Every value a consumer of `isolation` reads from the beginning within `ms` (stops early at `expect`). */
async function consumeAll(
  topic: string,
  readUncommitted: boolean,
  expect: number,
  ms = 8000,
): Promise<string[]> {
  const consumer = kafka.consumer({
    groupId: `read-${topic}-${readUncommitted}-${Date.now()}`,
    readUncommitted,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  let done: () => void = () => {};
  const enough = new Promise<void>((r) => (done = r));
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.push(message.value?.toString() ?? "");
      if (seen.length >= expect) done();
    },
  });
  await Promise.race([enough, new Promise((r) => setTimeout(r, ms))]);
  // a little longer: anything past the expected count would show here
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  return seen;
}

function fetchAt(topic: string, isolationLevel: number) {
  return request<FetchResponse>(spindle.kafka, 1, 11, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: 0n,
            logStartOffset: -1n,
            partitionMaxBytes: 1 << 20,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: "",
  });
}

test("FindCoordinator names this broker for a transactional id", async () => {
  const v1 = await request<FindCoordinatorResponse>(spindle.kafka, 10, 1, { key: "tx-1", keyType: 1 });
  assert.equal(v1.errorCode, 0);
  assert.equal(v1.nodeId, 0);
  const v4 = await request<FindCoordinatorResponse>(spindle.kafka, 10, 4, {
    keyType: 1,
    coordinatorKeys: ["a", "b"],
  });
  assert.deepEqual(
    (v4.coordinators ?? []).map((c) => [c.key, c.errorCode]),
    [
      ["a", 0],
      ["b", 0],
    ],
  );
  const unknown = await request<FindCoordinatorResponse>(spindle.kafka, 10, 1, { key: "k", keyType: 9 });
  assert.equal(unknown.errorCode, 42, "INVALID_REQUEST for a key type Kafka does not know");
});

test("committed records are read; aborted ones only by read_uncommitted consumers", async () => {
  const topic = "tx-commit-abort";
  await createTopic(topic);
  const producer = await txProducer("tx-ca");
  const t1 = await producer.transaction();
  await t1.send({ topic, messages: [{ value: "c1" }, { value: "c2" }] });
  await t1.commit();
  const t2 = await producer.transaction();
  await t2.send({ topic, messages: [{ value: "a1" }, { value: "a2" }] });
  await t2.abort();
  const t3 = await producer.transaction();
  await t3.send({ topic, messages: [{ value: "c3" }] });
  await t3.commit();
  await producer.disconnect();
  assert.deepEqual(await consumeAll(topic, false, 3), ["c1", "c2", "c3"]);
  assert.deepEqual(await consumeAll(topic, true, 5), ["c1", "c2", "a1", "a2", "c3"]);
  // the wire: the aborted transaction is listed for read_committed, markers sit after each transaction
  const f = await fetchAt(topic, 1);
  const part = f.responses[0]?.partitions[0];
  assert.equal(part?.highWatermark, 8n, "5 records and 3 markers");
  assert.equal(part?.lastStableOffset, 8n);
  assert.equal(part?.abortedTransactions?.length, 1);
});

test("read_committed stops at an open transaction's first offset until it commits", async () => {
  const topic = "tx-lso";
  await createTopic(topic);
  const plain = kafka.producer();
  await plain.connect();
  await plain.send({ topic, messages: [{ value: "before" }] });
  const producer = await txProducer("tx-lso");
  const t = await producer.transaction();
  await t.send({ topic, messages: [{ value: "open-1" }] });
  await plain.send({ topic, messages: [{ value: "after" }] });
  const committed = await fetchAt(topic, 1);
  const cp = committed.responses[0]?.partitions[0];
  assert.equal(cp?.highWatermark, 3n);
  assert.equal(cp?.lastStableOffset, 1n, "held at the open transaction's first batch");
  const uncommitted = await fetchAt(topic, 0);
  assert.ok((uncommitted.responses[0]?.partitions[0]?.records?.length ?? 0) > (cp?.records?.length ?? 0));
  assert.deepEqual(await consumeAll(topic, false, 2, 2000), ["before"]);
  await t.commit();
  assert.deepEqual(await consumeAll(topic, false, 3), ["before", "open-1", "after"]);
  await plain.disconnect();
  await producer.disconnect();
});

test("offsets sent in a transaction are committed only when it commits", async () => {
  const topic = "tx-offsets";
  await createTopic(topic);
  const admin = kafka.admin();
  await admin.connect();
  const producer = await txProducer("tx-off");
  const offsetOf = async (groupId: string) =>
    (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions[0]?.offset;
  const aborted = await producer.transaction();
  await aborted.send({ topic, messages: [{ value: "x" }] });
  await aborted.sendOffsets({
    consumerGroupId: "g-tx",
    topics: [{ topic, partitions: [{ partition: 0, offset: "7" }] }],
  });
  assert.equal(await offsetOf("g-tx"), "-1", "not visible while open");
  await aborted.abort();
  assert.equal(await offsetOf("g-tx"), "-1", "an abort drops them");
  const t = await producer.transaction();
  await t.send({ topic, messages: [{ value: "y" }] });
  await t.sendOffsets({
    consumerGroupId: "g-tx",
    topics: [{ topic, partitions: [{ partition: 0, offset: "9" }] }],
  });
  await t.commit();
  // EndTxn is answered once the commit is decided (durable); the offsets follow with the markers, as in Kafka
  assert.equal(await eventually(() => offsetOf("g-tx"), "9"), "9");
  await producer.disconnect();
  await admin.disconnect();
});

test("a second producer with the same transactional id fences the first and aborts its open transaction", async () => {
  const topic = "tx-fence";
  await createTopic(topic);
  const first = await txProducer("tx-fence");
  const t1 = await first.transaction();
  await t1.send({ topic, messages: [{ value: "zombie" }] });
  const second = await txProducer("tx-fence");
  // kafkajs asks for its producer id at its first transaction(): that is init_transactions, which fences
  const t2 = await second.transaction();
  await assert.rejects(t1.send({ topic, messages: [{ value: "zombie-2" }] }), /epoch|fenced/i);
  await assert.rejects(t1.commit(), /epoch|fenced|state/i);
  await t2.send({ topic, messages: [{ value: "live" }] });
  await t2.commit();
  assert.deepEqual(await consumeAll(topic, false, 1), ["live"]);
  await first.disconnect().catch(() => {});
  await second.disconnect();
});

test("DescribeTransactions and ListTransactions report each transactional id", async () => {
  const topic = "tx-describe";
  await createTopic(topic, 2);
  const producer = await txProducer("tx-desc");
  const t = await producer.transaction();
  await t.send({ topic, messages: [{ value: "a", partition: 1 }] });
  const d = await request<DescribeTransactionsResponse>(spindle.kafka, 65, 0, {
    transactionalIds: ["tx-desc", "nope"],
  });
  const [open, missing] = d.transactionStates;
  assert.equal(open?.transactionState, "Ongoing");
  assert.deepEqual(
    open?.topics.map((x) => [x.topic, x.partitions]),
    [[topic, [1]]],
  );
  assert.equal(missing?.errorCode, 105, "TRANSACTIONAL_ID_NOT_FOUND");
  const l = await request<ListTransactionsResponse>(spindle.kafka, 66, 0, {
    stateFilters: ["Ongoing", "Bogus"],
    producerIdFilters: [],
  });
  assert.deepEqual(l.unknownStateFilters, ["Bogus"]);
  const producers = async () =>
    (
      await request<DescribeProducersResponse>(spindle.kafka, 61, 0, {
        topics: [{ name: topic, partitionIndexes: [1] }],
      })
    ).topics[0]?.partitions[0]?.activeProducers ?? [];
  const [p1] = await producers();
  assert.equal(p1?.producerId, open?.producerId);
  assert.equal(p1?.currentTxnStartOffset, 0n, "its open transaction starts at offset 0");
  assert.ok(l.transactionStates.some((x) => x.transactionalId === "tx-desc"));
  await t.commit();
  const state = async () =>
    (
      await request<DescribeTransactionsResponse>(spindle.kafka, 65, 0, {
        transactionalIds: ["tx-desc"],
      })
    ).transactionStates[0]?.transactionState;
  // PrepareCommit at first (the answer comes once the decision is durable), then Complete once the markers are
  assert.match((await state()) ?? "", /^(PrepareCommit|CompleteCommit)$/);
  assert.equal(await eventually(state, "CompleteCommit"), "CompleteCommit");
  assert.equal((await producers())[0]?.currentTxnStartOffset, -1n, "none open after the commit");
  await producer.disconnect();
});
