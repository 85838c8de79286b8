// `spindle transactions list|describe` run as the real bin against a real broker, with a kafkajs
// transactional producer holding a transaction open. Invariant: assertions read what the command printed.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";
import { type CliRun, cliFor, tableRows } from "./run-cli.ts";

let broker: SpindleProcess;
let spindle: ReturnType<typeof cliFor>;

before(async () => {
  broker = await startSpindle();
  spindle = cliFor(`http://${broker.http}`);
});
after(() => broker?.stop());

function ok(r: CliRun): CliRun {
  assert.equal(r.code, 0, `exit 0; stderr: ${r.stderr}`);
  return r;
}

test("list and describe an open kafkajs transaction; an unknown id and state are errors", async () => {
  ok(await spindle(["topics", "create", "t.txn", "-p", "1"]));
  const kafka = new Kafka({ clientId: "cli-txn", brokers: [broker.kafka], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ transactionalId: "tx.cli", idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const txn = await producer.transaction();
  try {
    await txn.send({ topic: "t.txn", messages: [{ value: "a" }, { value: "b" }] });

    const listed = tableRows(ok(await spindle(["transactions", "list", "--state", "Ongoing"])).stdout);
    assert.deepEqual(listed[0], [
      "transactional_id",
      "state",
      "producer_id",
      "epoch",
      "partitions",
      "duration_ms",
    ]);
    assert.deepEqual(listed[1]?.slice(0, 2), ["tx.cli", "Ongoing"]);
    assert.equal(listed[1]?.[4], "1");

    const described = ok(await spindle(["transactions", "describe", "tx.cli"])).stdout;
    assert.match(described, /^state\s+Ongoing$/m);
    const rows = tableRows(described);
    assert.deepEqual(rows[0], ["topic", "partition", "first_offset", "last_stable_offset", "end_offset"]);
    assert.deepEqual(rows[1], ["t.txn", "0", "0", "0", "2"], "the LSO held at the open transaction");

    const json = JSON.parse(ok(await spindle(["transactions", "describe", "tx.cli", "--json"])).stdout);
    assert.equal(json.partitions[0].end_offset, 2);
  } finally {
    await txn.abort();
    await producer.disconnect();
  }
  const missing = await spindle(["transactions", "describe", "nobody"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nobody/);
  const bad = await spindle(["transactions", "list", "--state", "Running"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown state Running/);
});
