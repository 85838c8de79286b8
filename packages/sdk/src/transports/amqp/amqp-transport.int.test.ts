// The amqp adapter below the Bus, against RabbitMQ (TTL delay queues) and an embedded Spindle
// (x-delayed-message): delayed copies to one group, release, dead-letter queues' browse and take, and a
// connection closed from the broker's side. Names carry this run's pid; what RabbitMQ got is deleted.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  closeRabbitMqConnections,
  deleteRabbitMqNames,
  RABBITMQ_URL,
} from "../../../../../test/support/rabbitmq.ts";
import { systemClock } from "../../lib/clock.ts";
import { uniqueName, waitFor } from "../../testing/wait.ts";
import { createEmbeddedTransport } from "../embedded/embedded-transport.ts";
import type { Delivery, Transport, TransportMessage } from "../transport.ts";
import { createAmqpTransport } from "./amqp-transport.ts";

function message(id: string, body = id): TransportMessage {
  const attributes = { specversion: "1.0", id, source: "test", type: "t", extensions: {} } as const;
  return { attributes, headers: { h: "v" }, body: Buffer.from(body) };
}

const dir = mkdtempSync(join(tmpdir(), "spindle-sdk-amqp-"));
const open: Transport[] = [];
after(async () => {
  for (const t of open) await t.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
  await deleteRabbitMqNames(`-${process.pid}-`);
});

const targets: [string, () => Promise<Transport>][] = [
  ["RabbitMQ", () => createAmqpTransport({ url: new URL(RABBITMQ_URL), clock: systemClock })],
  [
    "embedded Spindle",
    () => createEmbeddedTransport({ url: new URL(`embedded://${dir}`), clock: systemClock }),
  ],
];

for (const [name, make] of targets) {
  const transport = async () => {
    const t = await make();
    open.push(t);
    return t;
  };

  describe(`amqp adapter on ${name}`, () => {
    test("a delayed copy reaches only its group, no sooner than its delay; a shorter one is not held up", async () => {
      const t = await transport();
      const topic = uniqueName("delay");
      const got: Record<string, { id: string; at: number }[]> = { a: [], b: [] };
      for (const g of ["a", "b"] as const) {
        await t.subscribe(topic, { group: g, prefetch: 10 }, (d) => {
          got[g]?.push({ id: d.message.attributes.id, at: Date.now() });
          void d.ack();
        });
      }
      const start = Date.now();
      await t.publish(topic, message("late"), { group: "a", delayMs: 1500 });
      await t.publish(topic, message("soon"), { group: "a", delayMs: 300 });
      await waitFor("both copies", () => got.a?.length === 2, 15_000);
      const [first, second] = got.a ?? [];
      assert.equal(first?.id, "soon");
      assert.ok((first?.at ?? 0) - start >= 300, `soon after ${(first?.at ?? 0) - start} ms`);
      assert.equal(second?.id, "late");
      assert.ok((second?.at ?? 0) - start >= 1500, `late after ${(second?.at ?? 0) - start} ms`);
      assert.equal(got.b?.length, 0, "the other group got no copy");
    });

    test("release gives a delivery back: it comes again, counted as redelivered", async () => {
      const t = await transport();
      const topic = uniqueName("release");
      const seen: Delivery[] = [];
      await t.subscribe(topic, { group: "g", prefetch: 1 }, (d) => {
        seen.push(d);
        void (seen.length === 1 ? d.release() : d.ack());
      });
      await t.publish(topic, message("m1"));
      await waitFor("the redelivery", () => seen.length === 2);
      assert.equal(seen[1]?.message.attributes.id, "m1");
      assert.equal(seen[0]?.redeliveries, 0);
      assert.ok((seen[1]?.redeliveries ?? 0) >= 1);
      assert.equal(seen[1]?.message.headers.h, "v");
    });

    test("a queue: browse removes nothing, take leases until ack or release", async () => {
      const t = await transport();
      const queue = uniqueName("dlq");
      for (const id of ["d1", "d2", "d3"]) await t.send(queue, message(id));
      const ids = (ms: TransportMessage[]) => ms.map((m) => m.attributes.id);
      assert.deepEqual(ids(await t.browse(queue, 2)), ["d1", "d2"]);
      assert.deepEqual(ids(await t.browse(queue, 10)), ["d1", "d2", "d3"]);
      const taken = await t.take(queue, 2);
      assert.deepEqual(
        taken.map((x) => x.message.attributes.id),
        ["d1", "d2"],
      );
      await taken[0]?.ack();
      await taken[1]?.release();
      assert.deepEqual(ids(await t.browse(queue, 10)), ["d2", "d3"]);
      assert.deepEqual(await t.take(uniqueName("empty"), 5), []);
    });
  });
}

test("RabbitMQ closes the connection: the adapter reconnects, resubscribes and publishes again", async () => {
  const t = await createAmqpTransport({ url: new URL(RABBITMQ_URL), clock: systemClock });
  open.push(t);
  const statuses: string[] = [];
  t.onStatus?.((s) => statuses.push(s));
  const topic = uniqueName("reconnect");
  const got: string[] = [];
  await t.subscribe(topic, { group: "g", prefetch: 5 }, (d) => {
    got.push(d.message.attributes.id);
    void d.ack();
  });
  await t.publish(topic, message("before"));
  await waitFor("the first message", () => got.length === 1);
  assert.ok((await closeRabbitMqConnections(`spindle-sdk ${process.pid}`)) >= 1, "our connection was found");
  await waitFor("reconnecting", () => statuses.includes("reconnecting"), 15_000);
  await t.publish(topic, message("after"));
  await waitFor("the message published after the reconnect", () => got.includes("after"), 15_000);
  assert.deepEqual(statuses.slice(0, 2), ["reconnecting", "connected"]);
});
