// transaction.timeout.ms with unmodified kafkajs: a transaction left open past its timeout is aborted by the
// broker (its records never reach read_committed consumers) and its producer is fenced; a new producer with
// the same transactional id carries on. Invariant: a real listener and client; only the check interval is short.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { DescribeTransactionsResponse, FetchResponse } from "@spindle/protocol";
import { Kafka, logLevel } from "kafkajs";
import { request } from "./raw-client.ts";
import { startTestKafka, type TestKafka } from "./test-broker.ts";

let broker: TestKafka;
let kafka: Kafka;
before(async () => {
  broker = await startTestKafka({ txnAbortCheckMs: 100 });
  kafka = new Kafka({
    clientId: "tt",
    brokers: [broker.address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2 },
  });
});
after(async () => {
  await broker.close();
});

const describe = async (id: string) =>
  (await request<DescribeTransactionsResponse>(broker.address, 65, 0, { transactionalIds: [id] }))
    .transactionStates[0];

test("a transaction open past its timeout is aborted and its producer fenced", async () => {
  const topic = "tx-timeout";
  const producer = kafka.producer({
    transactionalId: "tt",
    maxInFlightRequests: 1,
    idempotent: true,
    transactionTimeout: 1000,
  });
  await producer.connect();
  const t = await producer.transaction();
  await t.send({ topic, messages: [{ value: "hung" }] });
  assert.equal((await describe("tt"))?.transactionState, "Ongoing");
  const deadline = Date.now() + 10_000;
  while ((await describe("tt"))?.transactionState !== "CompleteAbort") {
    assert.ok(Date.now() < deadline, "not aborted within 10 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal((await describe("tt"))?.producerEpoch, 1, "the abort bumped the epoch");
  await assert.rejects(t.commit(), /epoch|fenced/i);
  const fetched = await request<FetchResponse>(broker.address, 1, 11, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 1,
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
  const part = fetched.responses[0]?.partitions[0];
  assert.equal(part?.highWatermark, 2n, "the record and the abort marker");
  assert.equal(part?.lastStableOffset, 2n);
  assert.deepEqual(
    part?.abortedTransactions?.map((a) => a.firstOffset),
    [0n],
  );
  await producer.disconnect().catch(() => {});

  const next = kafka.producer({ transactionalId: "tt", maxInFlightRequests: 1, idempotent: true });
  await next.connect();
  const t2 = await next.transaction();
  await t2.send({ topic, messages: [{ value: "fine" }] });
  await t2.commit();
  // answered once PrepareCommit is durable; Complete follows the markers
  let state = (await describe("tt"))?.transactionState;
  for (let i = 0; i < 100 && state !== "CompleteCommit"; i++) {
    await new Promise((r) => setTimeout(r, 50));
    state = (await describe("tt"))?.transactionState;
  }
  assert.equal(state, "CompleteCommit");
  await next.disconnect();
});
