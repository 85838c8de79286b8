// Kafka transactions over HTTP and in /metrics against a real spindle process, driven by kafkajs
// transactional producers: an open transaction is listed as Ongoing with the partitions it holds back (their
// last stable offset below the end), a committed and an aborted one as Complete*, with the counters; an
// unknown id is 404, an unknown state filter 400, and the scrape passes `promtool check metrics`.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { httpApi } from "../support/http-api.ts";
import { parseScrape, promtoolCheck, value } from "../support/prometheus.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

let spindle: SpindleProcess;
let api: ReturnType<typeof httpApi>;
let kafka: Kafka;

before(async () => {
  spindle = await startSpindle();
  api = httpApi(spindle.http);
  kafka = new Kafka({ clientId: "http-txn", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
});
after(async () => {
  await spindle.stop();
});

interface TxnSummary {
  transactional_id: string;
  state: string;
  producer_id: number;
  producer_epoch: number;
  timeout_ms: number;
  started_ms: number | null;
  duration_ms: number | null;
  partitions: number;
  groups: number;
}
interface TxnDetail extends Omit<TxnSummary, "partitions"> {
  partitions: {
    topic: string;
    partition: number;
    first_offset: number;
    last_stable_offset: number | null;
    end_offset: number | null;
  }[];
  pending_offsets: unknown[];
}

async function scrape() {
  const res = await fetch(`http://${spindle.http}/metrics`);
  return res.text();
}

test("open, committed and aborted transactions as the API and /metrics show them", async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "http-txn", numPartitions: 2 }] });
  await admin.disconnect();
  const before = parseScrape(await scrape());
  const committedBefore = value(before, "spindle_kafka_transactions_committed_total");

  const done = kafka.producer({ transactionalId: "http-done", idempotent: true, maxInFlightRequests: 1 });
  await done.connect();
  const t1 = await done.transaction();
  await t1.send({ topic: "http-txn", messages: [{ partition: 0, value: "a" }] });
  await t1.commit();
  const t2 = await done.transaction();
  await t2.send({ topic: "http-txn", messages: [{ partition: 1, value: "b" }] });
  await t2.abort();

  const open = kafka.producer({
    transactionalId: "http-open",
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: 60_000,
  });
  await open.connect();
  const t3 = await open.transaction();
  await t3.send({
    topic: "http-txn",
    messages: [
      { partition: 0, value: "c" },
      { partition: 0, value: "d" },
    ],
  });

  const list = await api<TxnSummary[]>("GET", "/api/transactions");
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.body.map((t) => [t.transactional_id, t.state]),
    [
      ["http-done", "CompleteAbort"],
      ["http-open", "Ongoing"],
    ],
  );
  const o = list.body[1]!;
  assert.equal(o.partitions, 1);
  assert.equal(o.timeout_ms, 60_000);
  assert.ok(o.started_ms !== null && o.duration_ms !== null && o.duration_ms >= 0);
  assert.equal(list.body[0]!.started_ms, null, "nothing open");

  const filtered = await api<TxnSummary[]>("GET", "/api/transactions?state=Ongoing,PrepareCommit");
  assert.deepEqual(
    filtered.body.map((t) => t.transactional_id),
    ["http-open"],
  );

  const d = await api<TxnDetail>("GET", "/api/transactions/http-open");
  assert.equal(d.status, 200);
  assert.equal(d.body.state, "Ongoing");
  assert.equal(d.body.partitions.length, 1);
  const p = d.body.partitions[0]!;
  assert.equal(p.topic, "http-txn");
  assert.equal(p.partition, 0);
  assert.equal(p.end_offset, p.first_offset + 2, "its two records");
  assert.equal(p.last_stable_offset, p.first_offset, "held back at the open transaction");

  const text = await scrape();
  promtoolCheck(text);
  const s = parseScrape(text);
  assert.equal(value(s, "spindle_kafka_transactions", { state: "Ongoing" }), 1);
  assert.equal(value(s, "spindle_kafka_transactions", { state: "CompleteAbort" }), 1);
  assert.equal(value(s, "spindle_kafka_transactions", { state: "PrepareCommit" }), 0);
  assert.equal(value(s, "spindle_kafka_transactions_committed_total"), committedBefore + 1);
  assert.ok(value(s, "spindle_kafka_transactions_aborted_total") >= 1);
  assert.ok(value(s, "spindle_kafka_aborted_transaction_ranges") >= 1);

  await t3.commit();
  const after = await api<TxnDetail>("GET", "/api/transactions/http-open");
  assert.ok(["PrepareCommit", "CompleteCommit"].includes(after.body.state));
  await done.disconnect();
  await open.disconnect();
});

test("an unknown transactional id is 404; an unknown state filter is 400", async () => {
  const missing = await api<{ reason: string }>("GET", "/api/transactions/nobody");
  assert.equal(missing.status, 404);
  assert.match(missing.body.reason, /transactional id nobody does not exist/);
  const bad = await api<{ reason: string }>("GET", "/api/transactions?state=Running");
  assert.equal(bad.status, 400);
  assert.match(bad.body.reason, /unknown state Running/);
});
