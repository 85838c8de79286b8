// The kafka adapter below the Bus against a real `spindle` process's Kafka port (@platformatic/kafka):
// delayed copies through retry topics, release, dead-letter topics' browse and take; then the broker is
// restarted on the same port under a subscription, which must consume again.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";
import { testMessage, transportChecks } from "../../../../../test/support/transport-checks.ts";
import { systemClock } from "../../lib/clock.ts";
import { uniqueName, waitFor } from "../../testing/wait.ts";
import type { Transport } from "../transport.ts";
import { createTransport } from "./index.ts";

let spindle: SpindleProcess;
const open: Transport[] = [];
before(async () => {
  spindle = await startSpindle();
});
after(async () => {
  for (const t of open) await t.close().catch(() => {});
  await spindle.stop();
});

async function kafka(): Promise<Transport> {
  const t = await createTransport({ url: new URL(`kafka://${spindle.kafka}`), clock: systemClock });
  open.push(t);
  return t;
}

transportChecks("kafka → Spindle", kafka, 30_000);

test("the broker restarts on the same port: the subscription consumes again", async () => {
  const t = await kafka();
  const topic = uniqueName("restart");
  const got: string[] = [];
  await t.subscribe(topic, { group: "g", prefetch: 5 }, (d) => {
    got.push(d.message.attributes.id);
    void d.ack();
  });
  await t.publish(topic, testMessage("before"));
  await waitFor("the first record", () => got.includes("before"), 20_000);
  const port = spindle.kafka.slice(spindle.kafka.lastIndexOf(":") + 1);
  await spindle.stop();
  spindle = await startSpindle(["--kafka-port", port], spindle.dataDir);
  await t.publish(topic, testMessage("after"));
  await waitFor("the record published after the restart", () => got.includes("after"), 60_000);
  assert.equal(got.filter((id) => id === "before").length, 1, "the committed record is not read again");
});
