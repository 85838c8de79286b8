// Transactional producers against a real spindle process, which has no transaction coordinator yet: kafkajs
// and librdkafka (kcat) must fail at once with a reason, not retry a "coordinator not available" until
// their timeout. Invariant: every check uses an unmodified client or the raw wire answer.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, test } from "node:test";
import type { FindCoordinatorResponse, InitProducerIdResponse } from "@spindle/protocol";
import { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";
import { within } from "../../testing/index.ts";
import { request } from "./raw-client.ts";

const TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53;
/** "at once": well under any client's retry schedule (kafkajs retries for ~25 s, librdkafka for 60 s) */
const FAST_MS = 3000;

let spindle: SpindleProcess;
before(async () => {
  spindle = await startSpindle();
});
after(async () => {
  await spindle.stop();
});

test("FindCoordinator for a transactional id answers a non-retriable error naming the reason", async () => {
  const v1 = await request<FindCoordinatorResponse>(spindle.kafka, 10, 1, { key: "tx-1", keyType: 1 });
  assert.equal(v1.errorCode, TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  assert.match(v1.errorMessage ?? "", /does not support Kafka transactions/);
  assert.equal(v1.nodeId, -1);
  const v4 = await request<FindCoordinatorResponse>(spindle.kafka, 10, 4, {
    keyType: 1,
    coordinatorKeys: ["tx-1", "tx-2"],
  });
  assert.deepEqual(
    (v4.coordinators ?? []).map((c) => [c.key, c.errorCode]),
    [
      ["tx-1", TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
      ["tx-2", TRANSACTIONAL_ID_AUTHORIZATION_FAILED],
    ],
  );
  const group = await request<FindCoordinatorResponse>(spindle.kafka, 10, 1, { key: "g", keyType: 0 });
  assert.equal(group.errorCode, 0, "groups still have their coordinator");
  const unknown = await request<FindCoordinatorResponse>(spindle.kafka, 10, 1, { key: "k", keyType: 9 });
  assert.equal(unknown.errorCode, 42, "INVALID_REQUEST for a key type Kafka does not know");
  const init = await request<InitProducerIdResponse>(spindle.kafka, 22, 1, {
    transactionalId: "tx-1",
    transactionTimeoutMs: 60_000,
  });
  assert.equal(
    init.errorCode,
    TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
    "InitProducerId refuses it the same way",
  );
});

test("kafkajs: transaction() on a transactional producer rejects at once", async () => {
  const kafka = new Kafka({ clientId: "tx", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({
    transactionalId: "kafkajs-tx",
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const t0 = Date.now();
  // kafkajs drops the broker's error on the way (brokerPool.withBroker swallows it): what it gives up
  // with is "Failed to find group coordinator", and the point is how soon
  await assert.rejects(within(producer.transaction(), FAST_MS), /Failed to find group coordinator/);
  assert.ok(Date.now() - t0 < FAST_MS);
  await producer.disconnect();
});

test("librdkafka (kcat): init_transactions fails at once with the broker's reason", async () => {
  const t0 = Date.now();
  const child = spawn(
    "kcat",
    ["-b", spindle.kafka, "-P", "-t", "tx-topic", "-X", "transactional.id=kcat-tx"],
    { stdio: ["pipe", "ignore", "pipe"] },
  );
  let err = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
  child.stdin.end("one\n");
  const code = await within(
    new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c))),
    FAST_MS * 2,
    "kcat",
  ).catch((e: Error) => {
    child.kill("SIGKILL");
    throw new Error(`${e.message}; kcat said: ${err}`);
  });
  assert.notEqual(code, 0, err);
  assert.match(err, /Transactional Id authorization failed.*does not support Kafka transactions/s);
  assert.ok(Date.now() - t0 < FAST_MS, `kcat exited after ${Date.now() - t0} ms`);
});
