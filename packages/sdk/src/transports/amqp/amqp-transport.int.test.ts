// The amqp adapter below the Bus, against RabbitMQ (TTL delay queues) and an embedded Spindle
// (x-delayed-message), and a connection closed from RabbitMQ's side. Names carry this run's pid; what
// RabbitMQ got is deleted.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  closeRabbitMqConnections,
  deleteRabbitMqNames,
  RABBITMQ_URL,
} from "../../../../../test/support/rabbitmq.ts";
import { testMessage, transportChecks } from "../../../../../test/support/transport-checks.ts";
import { systemClock } from "../../lib/clock.ts";
import { uniqueName, waitFor } from "../../testing/wait.ts";
import { createEmbeddedTransport } from "../embedded/embedded-transport.ts";
import type { Transport } from "../transport.ts";
import { createAmqpTransport } from "./amqp-transport.ts";
import { topicExchange } from "./names.ts";

const dir = mkdtempSync(join(tmpdir(), "spindle-sdk-amqp-"));
const open: Transport[] = [];
after(async () => {
  for (const t of open) await t.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
  await deleteRabbitMqNames(`-${process.pid}-`);
});

async function opened(t: Promise<Transport>): Promise<Transport> {
  open.push(await t);
  return open[open.length - 1] as Transport;
}

transportChecks("amqp → RabbitMQ", () =>
  opened(createAmqpTransport({ url: new URL(RABBITMQ_URL), clock: systemClock })),
);
transportChecks("embedded Spindle", () =>
  opened(createEmbeddedTransport({ url: new URL(`embedded://${dir}`), clock: systemClock })),
);

test("RabbitMQ closes the connection: the adapter reconnects, resubscribes and publishes again", async () => {
  const t = await opened(createAmqpTransport({ url: new URL(RABBITMQ_URL), clock: systemClock }));
  const statuses: string[] = [];
  t.onStatus?.((s) => statuses.push(s));
  const topic = uniqueName("reconnect");
  const got: string[] = [];
  await t.subscribe(topic, { group: "g", prefetch: 5 }, (d) => {
    got.push(d.message.attributes.id);
    void d.ack();
  });
  await t.publish(topic, testMessage("before"));
  await waitFor("the first message", () => got.length === 1);
  assert.ok((await closeRabbitMqConnections(`spindle-sdk ${process.pid}`)) >= 1, "our connection was found");
  await waitFor("reconnecting", () => statuses.includes("reconnecting"), 15_000);
  await t.publish(topic, testMessage("after"));
  await waitFor("the message published after the reconnect", () => got.includes("after"), 15_000);
  assert.deepEqual(statuses.slice(0, 2), ["reconnecting", "connected"]);
});

test("a temporary subscription (a bus's reply topic) takes its topic's exchange with it when closed", async () => {
  const t = await opened(createAmqpTransport({ url: new URL(RABBITMQ_URL), clock: systemClock }));
  const topic = uniqueName("private");
  const sub = await t.subscribe(topic, { group: topic, prefetch: 1, temporary: true }, (d) => void d.ack());
  assert.equal(await exchangeExists(topicExchange(topic)), true, "the exchange exists while subscribed");
  await sub.close();
  assert.equal(await exchangeExists(topicExchange(topic)), false, "the exchange is gone");
});

/** checkExchange on its own connection: a missing exchange closes the channel with 404. */
async function exchangeExists(name: string): Promise<boolean> {
  const amqplib = await import("amqplib");
  const conn = await amqplib.connect(RABBITMQ_URL);
  try {
    const ch = await conn.createChannel();
    ch.on("error", () => {});
    return await ch.checkExchange(name).then(
      () => true,
      () => false,
    );
  } finally {
    await conn.close().catch(() => {});
  }
}
