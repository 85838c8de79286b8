// The RabbitMQ-compatible management API against a real `spindle` process: overview, vhosts, queues and
// exchanges (declare, show, list, delete, purge), publish and get, with amqplib on the same broker to check
// that HTTP and AMQP see one model. Shapes and error statuses are RabbitMQ's documented ones.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import amqplib from "amqplib";
import { httpApi } from "../support/http-api.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

type Obj = Record<string, unknown>;

let proc: SpindleProcess;
let api: ReturnType<typeof httpApi>;

before(async () => {
  proc = await startSpindle();
  api = httpApi(proc.http);
});
after(() => proc?.stop());

/** Asserts a RabbitMQ error answer: the status, `error` and a reason matching `reason`. */
async function rejects(p: Promise<{ status: number; body: unknown }>, status: number, reason: RegExp) {
  const res = await p;
  assert.equal(res.status, status, JSON.stringify(res.body));
  const body = res.body as { error: unknown; reason: unknown };
  assert.equal(typeof body.error, "string");
  assert.match(String(body.reason), reason);
}

describe("overview, whoami, vhosts", () => {
  it("answers the fields rabbitmqadmin and dashboards read", async () => {
    const o = (await api<Obj>("GET", "/api/overview")).body;
    for (const k of ["rabbitmq_version", "cluster_name", "node", "management_version", "product_name"]) {
      assert.equal(typeof o[k], "string", k);
    }
    assert.equal(o.product_name, "Spindle");
    const totals = o.queue_totals as Obj;
    assert.equal(typeof totals.messages, "number");
    assert.deepEqual(totals.messages_details, { rate: 0 });
    const objects = o.object_totals as Obj;
    for (const k of ["queues", "exchanges", "connections", "channels", "consumers"]) {
      assert.equal(typeof objects[k], "number", k);
    }
    assert.equal(objects.exchanges, 6, "the default exchange and the five amq.* ones");
    const stats = o.message_stats as Obj;
    assert.equal(typeof stats.publish, "number");
    assert.deepEqual(stats.publish_details, { rate: 0 });
    const listeners = (o.listeners as Obj[]).map((l) => l.protocol).sort();
    assert.deepEqual(listeners, ["amqp", "http", "kafka"]);
    assert.deepEqual((await api("GET", "/api/whoami")).body, { name: "guest", tags: ["administrator"] });
  });

  it("lists the one vhost '/' and answers 404 for any other", async () => {
    const vhosts = (await api<Obj[]>("GET", "/api/vhosts")).body;
    assert.deepEqual(
      vhosts.map((v) => v.name),
      ["/"],
    );
    assert.equal(typeof vhosts[0]?.messages, "number");
    assert.equal((await api<Obj>("GET", "/api/vhosts/%2F")).body.name, "/");
    await rejects(api("GET", "/api/vhosts/other"), 404, /no vhost 'other'/);
    await rejects(api("GET", "/api/queues/other"), 404, /no vhost 'other'/);
    await rejects(api("PUT", "/api/queues/other/q", {}), 404, /no vhost 'other'/);
  });
});

describe("queues", () => {
  it("PUT declares (201), again the same (204), with other arguments 400 inequivalent arg, as RabbitMQ", async () => {
    const put = (body: unknown) => api("PUT", "/api/queues/%2F/jobs", body);
    assert.equal((await put({ durable: true, arguments: { "x-max-length": 10 } })).status, 201);
    assert.equal(
      (await put({ durable: "true", auto_delete: "false", arguments: { "x-max-length": 10 } })).status,
      204,
    );
    await rejects(
      put({ durable: false, arguments: { "x-max-length": 10 } }),
      400,
      /^inequivalent arg 'durable' for queue 'jobs' in vhost '\/': received 'false' but current is 'true'$/,
    );
    await rejects(
      put({ durable: true, arguments: { "x-max-length": 11 } }),
      400,
      /^inequivalent arg 'x-max-length' for queue 'jobs' in vhost '\/'/,
    );
    const q = (await api<Obj>("GET", "/api/queues/%2F/jobs")).body;
    assert.equal(q.name, "jobs");
    assert.equal(q.vhost, "/");
    assert.equal(q.durable, true);
    assert.equal(q.auto_delete, false);
    assert.equal(q.exclusive, false);
    assert.deepEqual(q.arguments, { "x-max-length": 10 });
    assert.equal(q.type, "classic");
    for (const k of ["messages", "messages_ready", "messages_unacknowledged", "consumers", "message_bytes"]) {
      assert.equal(q[k], 0, k);
    }
    const stats = q.message_stats as Obj;
    for (const k of ["publish", "deliver_get", "ack", "redeliver"]) {
      assert.equal(stats[k], 0, k);
      assert.deepEqual(stats[`${k}_details`], { rate: 0 }, k);
    }
    // the AMQP side sees the same queue and the same equivalence rule
    const conn = await amqplib.connect(proc.url);
    const ch = await conn.createChannel();
    assert.equal((await ch.checkQueue("jobs")).queue, "jobs");
    await conn.close();
  });

  it("refuses bad input with RabbitMQ's error shape and status", async () => {
    await rejects(api("PUT", "/api/queues/%2F/bad", "{not json"), 400, /not valid JSON/);
    await rejects(
      api("PUT", "/api/queues/%2F/bad", { durable: "yes" }),
      400,
      /'durable' must be true or false/,
    );
    await rejects(
      api("PUT", "/api/queues/%2F/bad", { arguments: [1] }),
      400,
      /'arguments' must be a JSON object/,
    );
    await rejects(api("PUT", "/api/queues/%2F/amq.mine", {}), 403, /reserved prefix 'amq\.\*'/);
    await rejects(api("PUT", "/api/queues/%2F/bad", { exclusive: true }), 400, /declare it over AMQP/);
    await rejects(api("GET", "/api/queues/%2F/nope"), 404, /no queue 'nope' in vhost '\/'/);
    await rejects(api("DELETE", "/api/queues/%2F/nope"), 404, /no queue 'nope'/);
  });

  it("counts ready and unacknowledged messages and consumers of AMQP clients", async () => {
    await api("PUT", "/api/queues/%2F/counted", { durable: false });
    const conn = await amqplib.connect(proc.url);
    const ch = await conn.createChannel();
    for (let i = 0; i < 3; i++) ch.sendToQueue("counted", Buffer.from(`m${i}`));
    await ch.prefetch(1);
    const got = new Promise<void>((resolve) => ch.consume("counted", () => resolve(), { noAck: false }));
    await got;
    const q = (await api<Obj>("GET", "/api/queues/%2F/counted")).body;
    assert.deepEqual([q.messages, q.messages_ready, q.messages_unacknowledged, q.consumers], [3, 2, 1, 1]);
    assert.equal(q.message_bytes, 6);
    assert.equal((q.message_stats as Obj).publish, 3);
    assert.equal((q.message_stats as Obj).deliver, 1);
    const listed = (await api<Obj[]>("GET", "/api/queues?columns=name,messages_unacknowledged")).body;
    assert.deepEqual(
      listed.find((x) => x.name === "counted"),
      { name: "counted", messages_unacknowledged: 1 },
    );
    await conn.close();
  });

  it("DELETE honours if-empty and if-unused; DELETE …/contents purges", async () => {
    await api("PUT", "/api/queues/%2F/doomed", {});
    const routed = await api<Obj>("POST", "/api/exchanges/%2F/amq.default/publish", {
      routing_key: "doomed",
      payload: "x",
      payload_encoding: "string",
      properties: {},
    });
    assert.deepEqual(routed.body, { routed: true });
    await rejects(api("DELETE", "/api/queues/%2F/doomed?if-empty=true"), 400, /is not empty/);
    assert.equal((await api("DELETE", "/api/queues/%2F/doomed/contents")).status, 204);
    assert.equal((await api<Obj>("GET", "/api/queues/%2F/doomed")).body.messages, 0);
    assert.equal((await api("DELETE", "/api/queues/%2F/doomed?if-empty=true")).status, 204);
    await rejects(api("GET", "/api/queues/%2F/doomed"), 404, /no queue/);
  });

  it("another connection's exclusive queue is shown but not used: 405 as RESOURCE_LOCKED", async () => {
    const conn = await amqplib.connect(proc.url);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue("", { exclusive: true });
    const path = `/api/queues/%2F/${encodeURIComponent(queue)}`;
    assert.equal((await api<Obj>("GET", path)).body.exclusive, true);
    await rejects(api("DELETE", `${path}/contents`), 405, /exclusive access to locked queue/);
    await rejects(
      api("POST", `${path}/get`, { count: 1, ackmode: "ack_requeue_true", encoding: "auto" }),
      405,
      /exclusive access/,
    );
    await conn.close();
  });

  it("pages, filters and sorts as RabbitMQ's API does", async () => {
    for (const n of ["page-a", "page-b", "page-c"]) await api("PUT", `/api/queues/%2F/${n}`, {});
    const page = (await api<Obj>("GET", "/api/queues/%2F?page=2&page_size=2&name=page-&columns=name")).body;
    assert.deepEqual(page, {
      filtered_count: 3,
      item_count: 1,
      items: [{ name: "page-c" }],
      page: 2,
      page_count: 2,
      page_size: 2,
      total_count: (page as Obj).total_count,
    });
    const reversed = (await api<Obj[]>("GET", "/api/queues?name=^page-&use_regex=true&sort_reverse=true"))
      .body;
    assert.deepEqual(
      reversed.map((q) => q.name),
      ["page-c", "page-b", "page-a"],
    );
    await rejects(api("GET", "/api/queues?page=0"), 400, /Invalid pagination parameters/);
  });
});

describe("exchanges", () => {
  it("declares, shows, lists and deletes exchanges with RabbitMQ's rules", async () => {
    const put = (body: unknown) => api("PUT", "/api/exchanges/%2F/events", body);
    assert.equal((await put({ type: "topic", durable: true })).status, 201);
    assert.equal((await put({ type: "topic", durable: "true" })).status, 204);
    await rejects(
      put({ type: "fanout", durable: true }),
      400,
      /^inequivalent arg 'type' for exchange 'events' in vhost '\/': received 'fanout' but current is 'topic'$/,
    );
    await rejects(put({ type: "nope" }), 400, /invalid exchange type 'nope'/);
    const e = (await api<Obj>("GET", "/api/exchanges/%2F/events")).body;
    assert.deepEqual(
      [e.name, e.vhost, e.type, e.durable, e.auto_delete, e.internal, e.arguments],
      ["events", "/", "topic", true, false, false, {}],
    );
    const names = (await api<Obj[]>("GET", "/api/exchanges/%2F?columns=name")).body.map((x) => x.name);
    assert.deepEqual(names, [
      "",
      "amq.direct",
      "amq.fanout",
      "amq.headers",
      "amq.match",
      "amq.topic",
      "events",
    ]);
    assert.equal((await api<Obj>("GET", "/api/exchanges/%2F/amq.default")).body.name, "");
    await rejects(api("DELETE", "/api/exchanges/%2F/amq.direct"), 403, /not permitted/);
    await rejects(api("PUT", "/api/exchanges/%2F/amq.new", { type: "direct" }), 403, /reserved prefix/);
    assert.equal((await api("DELETE", "/api/exchanges/%2F/events")).status, 204);
    await rejects(api("GET", "/api/exchanges/%2F/events"), 404, /no exchange 'events'/);
  });
});

describe("publish and get", () => {
  it("publishes through an exchange (routed or not) and AMQP consumers read the same message", async () => {
    await api("PUT", "/api/queues/%2F/inbox", { durable: true });
    const res = await api<Obj>("POST", "/api/exchanges/%2F/amq.default/publish", {
      routing_key: "inbox",
      payload: "aGVsbG8gd29ybGQ=",
      payload_encoding: "base64",
      properties: { content_type: "text/plain", delivery_mode: 2, headers: { tenant: "acme", n: 7 } },
    });
    assert.deepEqual(res.body, { routed: true });
    const nowhere = await api<Obj>("POST", "/api/exchanges/%2F/amq.direct/publish", {
      routing_key: "nobody-binds-this",
      payload: "x",
      payload_encoding: "string",
      properties: {},
    });
    assert.deepEqual(nowhere.body, { routed: false });
    const conn = await amqplib.connect(proc.url);
    const ch = await conn.createChannel();
    const m = await ch.get("inbox", { noAck: true });
    assert.ok(m);
    assert.equal(m.content.toString(), "hello world");
    assert.equal(m.properties.contentType, "text/plain");
    assert.equal(m.properties.deliveryMode, 2);
    assert.deepEqual(m.properties.headers, { tenant: "acme", n: 7 });
    await conn.close();
    await rejects(
      api("POST", "/api/exchanges/%2F/amq.default/publish", { routing_key: "inbox", payload: 5 }),
      400,
      /'payload' must be a string/,
    );
    await rejects(
      api("POST", "/api/exchanges/%2F/amq.default/publish", {
        routing_key: "inbox",
        payload: "x",
        properties: { colour: 1 },
      }),
      400,
      /unsupported property 'colour'/,
    );
    await rejects(
      api("POST", "/api/exchanges/%2F/nope/publish", { routing_key: "", payload: "" }),
      404,
      /nope/,
    );
  });

  it("gets with each ackmode, encoding and truncate, and answers RabbitMQ's message fields", async () => {
    await api("PUT", "/api/queues/%2F/getme", {});
    const conn = await amqplib.connect(proc.url);
    const ch = await conn.createConfirmChannel();
    ch.sendToQueue("getme", Buffer.from("first"), {
      headers: { a: 1 },
      messageId: "m-1",
      timestamp: 1700000000,
    });
    ch.sendToQueue("getme", Buffer.from([0xff, 0xfe, 0x00]));
    await ch.waitForConfirms();
    const get = (body: Obj) => api<Obj[]>("POST", "/api/queues/%2F/getme/get", body);
    const peek = await get({ count: "5", ackmode: "ack_requeue_true", encoding: "auto", truncate: 3 });
    assert.equal(peek.status, 200);
    assert.deepEqual(peek.body[0], {
      payload_bytes: 5,
      redelivered: false,
      exchange: "",
      routing_key: "getme",
      message_count: 1,
      properties: { message_id: "m-1", timestamp: 1700000000, headers: { a: 1 } },
      payload: "fir",
      payload_encoding: "string",
    });
    assert.deepEqual(
      [peek.body[1]?.payload, peek.body[1]?.payload_encoding, peek.body.length],
      ["//4A", "base64", 2],
      "bytes that are not UTF-8 come as base64; count stops at an empty queue",
    );
    const again = await get({ count: 1, ackmode: "reject_requeue_true", encoding: "base64" });
    assert.deepEqual([again.body[0]?.redelivered, again.body[0]?.payload], [true, "Zmlyc3Q="]);
    const q = (await api<Obj>("GET", "/api/queues/%2F/getme")).body;
    assert.deepEqual([q.messages, q.messages_unacknowledged], [2, 0], "requeued, nothing left unacked");
    const taken = await get({ count: 1, ackmode: "ack_requeue_false", encoding: "auto" });
    assert.equal(taken.body[0]?.payload, "first");
    const dropped = await get({ count: 1, ackmode: "reject_requeue_false", encoding: "auto" });
    assert.equal(dropped.body.length, 1);
    assert.deepEqual((await get({ count: 1, ackmode: "ack_requeue_true", encoding: "auto" })).body, []);
    const stats = (await api<Obj>("GET", "/api/queues/%2F/getme")).body.message_stats as Obj;
    assert.deepEqual([stats.get, stats.get_no_ack, stats.deliver_get, stats.redeliver], [4, 1, 5, 3]);
    await rejects(get({ count: 1, ackmode: "peek", encoding: "auto" }), 400, /'ackmode' must be one of/);
    await rejects(
      get({ count: 1, ackmode: "ack_requeue_true", encoding: "utf8" }),
      400,
      /Unsupported encoding/,
    );
    await rejects(get({ ackmode: "ack_requeue_true", encoding: "auto" }), 400, /'count' is missing/);
    await conn.close();
  });

  it("answers a publish only once the message is durable: it survives SIGKILL right after the 2xx", async () => {
    const own = await startSpindle();
    const ownApi = httpApi(own.http);
    await ownApi("PUT", "/api/queues/%2F/durable-q", { durable: true });
    for (let i = 0; i < 20; i++) {
      const r = await ownApi<Obj>("POST", "/api/exchanges/%2F/amq.default/publish", {
        routing_key: "durable-q",
        payload: `m${i}`,
        payload_encoding: "string",
        properties: { delivery_mode: 2 },
      });
      assert.deepEqual(r.body, { routed: true });
    }
    await own.stop(true);
    const again = await startSpindle([], own.dataDir);
    try {
      const q = (await httpApi(again.http)<Obj>("GET", "/api/queues/%2F/durable-q")).body;
      assert.equal(q.messages, 20);
    } finally {
      await again.stop();
    }
  });
});
