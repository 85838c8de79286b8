// The kafka adapter below the Bus against a real `spindle` process's Kafka port (@platformatic/kafka):
// delayed copies through retry topics, release, dead-letter topics' browse and take; then the broker is
// restarted on the same port under a subscription, which must consume again.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";
import { testMessage, transportChecks } from "../../../../../test/support/transport-checks.ts";
import { systemClock } from "../../lib/clock.ts";
import { uniqueName, waitFor } from "../../testing/wait.ts";
import type { Delivery, Transport, TransportStatus } from "../transport.ts";
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

test("lag() reports the records waiting for the group (the bus caches it; lag-cache.test.ts)", async () => {
  const t = await kafka();
  const topic = uniqueName("lag");
  // prefetch 1 and never settled: the rest waits in the topic, which is the lag
  const sub = await t.subscribe(topic, { group: "g", prefetch: 1 }, () => {});
  for (let i = 0; i < 4; i++) await t.publish(topic, testMessage(`m${i}`));
  let lag: number | undefined;
  for (const start = Date.now(); !(lag !== undefined && lag >= 1); await delay(200)) {
    assert.ok(Date.now() - start < 20_000, `no lag after 20 s: ${lag}`);
    lag = await sub.lag?.();
  }
});

test("a group that never got a record resumes where it joined: records published while away arrive", async () => {
  const t = await kafka();
  const topic = uniqueName("away");
  const got: string[] = [];
  const onDelivery = (d: Delivery) => {
    got.push(d.message.attributes.id);
    void d.ack();
  };
  // joined and gone with no record read: no partition delivered anything, so none committed on its own
  const first = await t.subscribe(topic, { group: "g", prefetch: 5 }, onDelivery);
  await first.close();
  const away = ["a0", "a1", "a2", "a3", "a4", "a5"]; // unkeyed: spread over the topic's partitions
  for (const id of away) await t.publish(topic, testMessage(id));
  await t.subscribe(topic, { group: "g", prefetch: 5 }, onDelivery);
  await waitFor(
    "every record published while the group was away",
    () => away.every((id) => got.includes(id)),
    20_000,
  );
});

test("the broker restarts on the same port: the subscription consumes again", async () => {
  const t = await kafka();
  const statuses: TransportStatus[] = [];
  t.onStatus?.((s) => statuses.push(s));
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
  assert.deepEqual(statuses.slice(0, 2), ["reconnecting", "connected"], "onStatus heard the restart");
});
