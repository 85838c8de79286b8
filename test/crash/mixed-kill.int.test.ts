// The kill -9 loop across AMQP and Kafka together (mixed-kill.ts) as part of `npm test`: SOAK_CYCLES cycles
// (20 by default, about a minute); `npm run soak` runs the same loop longer and prints the table.

import assert from "node:assert/strict";
import { test } from "node:test";
import { formatReport, runMixedKill } from "./mixed-kill.ts";

const cycles = Number(process.env.SOAK_CYCLES ?? 20);

test(`nothing confirmed or acknowledged is lost over ${cycles} kill -9 cycles of AMQP and Kafka together`, async () => {
  const r = await runMixedKill(cycles);
  console.log(formatReport(r));
  assert.deepEqual(r.failures, []);
  assert.equal(r.amqp.lost, 0);
  assert.equal(r.amqp.returnedAfterFlushedAck, 0);
  assert.equal(r.kafka.lost, 0);
  assert.equal(r.kafka.commitRegressions, 0);
  // the loop must have exercised both sides, or it proves nothing
  assert.ok(r.amqp.confirmed > 1000, `only ${r.amqp.confirmed} AMQP messages confirmed`);
  assert.ok(r.kafka.acked > 1000, `only ${r.kafka.acked} Kafka records acknowledged`);
  assert.ok(r.kafka.commitsAcked > 0, "no offset commit was acknowledged");
});
