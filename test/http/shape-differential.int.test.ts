// Spindle's management API answers against RabbitMQ 3.10's documented JSON (rabbitmq-json.ts): every field
// RabbitMQ's answer has, with the same JSON type, for each resource, with an amqplib client busy so that
// connections, channels, consumers and counters are not empty. The local RabbitMQ's management plugin is
// not enabled, so the comparison is with the documented shapes rather than live answers.

import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import amqplib from "amqplib";
import { httpApi } from "../support/http-api.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";
import { RABBITMQ_JSON, shapeDiff } from "./rabbitmq-json.ts";

let proc: SpindleProcess;
let api: ReturnType<typeof httpApi>;
let conn: amqplib.ChannelModel;

before(async () => {
  proc = await startSpindle();
  api = httpApi(proc.http);
  await api("PUT", "/api/exchanges/%2F/events", { type: "topic", durable: true });
  await api("PUT", "/api/queues/%2F/orders", { durable: true });
  await api("POST", "/api/bindings/%2F/e/events/q/orders", { routing_key: "order.*" });
  conn = await amqplib.connect(proc.url);
  const ch = await conn.createChannel();
  await ch.prefetch(1); // one unacked, the rest stays ready for the get below
  for (let i = 0; i < 3; i++) ch.publish("events", "order.new", Buffer.from(`o${i}`));
  await new Promise<void>((resolve) => ch.consume("orders", () => resolve()));
});
after(async () => {
  await conn?.close();
  await proc?.stop();
});

async function conforms(expected: unknown, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await api(method, path, body);
  assert.deepEqual(shapeDiff(expected, res.body), [], `${method} ${path}`);
  return res.body;
}

it("each resource has RabbitMQ's fields with RabbitMQ's JSON types", async () => {
  const J = RABBITMQ_JSON;
  await conforms(J.overview, "GET", "/api/overview");
  await conforms(J.whoami, "GET", "/api/whoami");
  await conforms([J.node], "GET", "/api/nodes");
  await conforms([J.vhost], "GET", "/api/vhosts");
  await conforms([J.queue], "GET", "/api/queues");
  await conforms(J.queue, "GET", "/api/queues/%2F/orders");
  await conforms([J.exchange], "GET", "/api/exchanges");
  await conforms([J.binding], "GET", "/api/bindings");
  const conns = (await conforms([J.connection], "GET", "/api/connections")) as unknown[];
  assert.equal(conns.length, 1);
  const chans = (await conforms([J.channel], "GET", "/api/channels")) as unknown[];
  assert.equal(chans.length, 1);
  const consumers = (await conforms([J.consumer], "GET", "/api/consumers")) as unknown[];
  assert.equal(consumers.length, 1);
  await conforms(J.page, "GET", "/api/queues?page=1");
  await conforms(J.definitions, "GET", "/api/definitions");
  await conforms(J.publish, "POST", "/api/exchanges/%2F/events/publish", {
    routing_key: "order.x",
    payload: "hello",
    payload_encoding: "string",
    properties: {},
  });
  const got = (await conforms([J.message], "POST", "/api/queues/%2F/orders/get", {
    count: 1,
    ackmode: "ack_requeue_true",
    encoding: "auto",
  })) as unknown[];
  assert.equal(got.length, 1);
});

it("errors have RabbitMQ's {error, reason} shape for each status", async () => {
  for (const [method, path, body] of [
    ["PUT", "/api/queues/%2F/orders", { durable: false }],
    ["GET", "/api/queues/%2F/nope", undefined],
    ["PUT", "/api/queues/%2F/x", "{"],
    ["DELETE", "/api/exchanges/%2F/amq.topic", undefined],
  ] as const) {
    await conforms(RABBITMQ_JSON.error, method, path, body);
  }
});
