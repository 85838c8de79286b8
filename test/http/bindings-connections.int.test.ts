// The management API's bindings (every RabbitMQ path form), connections, channels and consumers (with
// amqplib clients open) and health checks, against a real `spindle` process.
// Closing a connection over HTTP must reach the client as 320 CONNECTION_FORCED with the X-Reason text.

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

const summary = (bs: Obj[]) =>
  bs.map((b) => `${b.source}>${b.destination_type}:${b.destination}/${b.routing_key}`);

describe("bindings", () => {
  it("creates, lists, shows and deletes bindings in each of RabbitMQ's path forms", async () => {
    await api("PUT", "/api/exchanges/%2F/orders", { type: "topic", durable: true });
    await api("PUT", "/api/exchanges/%2F/audit", { type: "fanout", durable: true });
    await api("PUT", "/api/queues/%2F/billing", { durable: true });
    const created = await api("POST", "/api/bindings/%2F/e/orders/q/billing", { routing_key: "order.*" });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get("location"), "/api/bindings/%2F/e/orders/q/billing/order.*");
    await api("POST", "/api/bindings/%2F/e/orders/q/billing", {
      routing_key: "eu order",
      arguments: { region: "eu" },
    });
    assert.equal((await api("POST", "/api/bindings/%2F/e/orders/e/audit", { routing_key: "#" })).status, 201);

    const all = (await api<Obj[]>("GET", "/api/bindings")).body;
    assert.deepEqual(summary(all.filter((b) => b.destination === "billing" || b.destination === "audit")), [
      ">queue:billing/billing",
      "orders>exchange:audit/#",
      "orders>queue:billing/eu order",
      "orders>queue:billing/order.*",
    ]);
    const pair = (await api<Obj[]>("GET", "/api/bindings/%2F/e/orders/q/billing")).body;
    assert.deepEqual(summary(pair), ["orders>queue:billing/eu order", "orders>queue:billing/order.*"]);
    const withArgs = pair.find((b) => b.routing_key === "eu order") as Obj;
    assert.deepEqual(withArgs.arguments, { region: "eu" });
    assert.match(String(withArgs.properties_key), /^eu\+order~[\w-]+$/);
    assert.equal(pair.find((b) => b.routing_key === "order.*")?.properties_key, "order.*");

    const one = `/api/bindings/%2F/e/orders/q/billing/${encodeURIComponent(String(withArgs.properties_key))}`;
    assert.deepEqual((await api<Obj>("GET", one)).body, withArgs);
    const ofQueue = (await api<Obj[]>("GET", "/api/queues/%2F/billing/bindings")).body;
    assert.equal(ofQueue.length, 3, "the default binding and the two from orders");
    const fromOrders = (await api<Obj[]>("GET", "/api/exchanges/%2F/orders/bindings/source")).body;
    assert.equal(fromOrders.length, 3);
    const toAudit = (await api<Obj[]>("GET", "/api/exchanges/%2F/audit/bindings/destination")).body;
    assert.deepEqual(summary(toAudit), ["orders>exchange:audit/#"]);

    // routing follows what HTTP bound: order.created reaches billing through orders
    const routed = await api<Obj>("POST", "/api/exchanges/%2F/orders/publish", {
      routing_key: "order.created",
      payload: "{}",
      payload_encoding: "string",
      properties: {},
    });
    assert.deepEqual(routed.body, { routed: true });

    assert.equal((await api("DELETE", one)).status, 204);
    assert.equal((await api("GET", one)).status, 404);
    assert.equal((await api("DELETE", "/api/bindings/%2F/e/orders/q/billing/order.*")).status, 204);
    assert.equal((await api("DELETE", "/api/bindings/%2F/e/orders/e/audit/%23")).status, 204);
    assert.deepEqual(summary((await api<Obj[]>("GET", "/api/queues/%2F/billing/bindings")).body), [
      ">queue:billing/billing",
    ]);
  });

  it("answers 404 for missing ends, 403 for the default exchange, 400 for bad bodies", async () => {
    await api("PUT", "/api/queues/%2F/lonely", {});
    const status = async (method: string, path: string, body?: unknown) =>
      (await api(method, path, body)).status;
    assert.equal(await status("POST", "/api/bindings/%2F/e/nope/q/lonely", {}), 404);
    assert.equal(await status("POST", "/api/bindings/%2F/e/amq.direct/q/nope", {}), 404);
    assert.equal(await status("POST", "/api/bindings/%2F/e/amq.default/q/lonely", {}), 403);
    assert.equal(await status("DELETE", "/api/bindings/%2F/e/amq.default/q/lonely/lonely"), 403);
    assert.equal(await status("POST", "/api/bindings/%2F/e/amq.direct/q/lonely", { routing_key: 5 }), 400);
    assert.equal(await status("DELETE", "/api/bindings/%2F/e/amq.direct/q/lonely/nothing"), 404);
  });
});

describe("connections, channels, consumers", () => {
  it("lists what amqplib clients hold, with RabbitMQ's names and fields", async () => {
    const conn = await amqplib.connect(proc.url, { clientProperties: { connection_name: "billing-worker" } });
    const ch = await conn.createChannel();
    await ch.assertQueue("work");
    await ch.prefetch(7);
    await ch.consume("work", () => undefined, { consumerTag: "worker-1" });
    const confirms = await conn.createConfirmChannel();
    const conns = (await api<Obj[]>("GET", "/api/connections")).body;
    const c = conns.find((x) => x.user_provided_name === "billing-worker") as Obj;
    assert.match(String(c.name), /^127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+$/);
    assert.equal(String(c.name).split(" -> ")[1], `127.0.0.1:${proc.port}`);
    assert.deepEqual(
      [c.user, c.vhost, c.state, c.channels, c.protocol, c.auth_mechanism, c.port],
      ["guest", "/", "running", 2, "AMQP 0-9-1", "PLAIN", proc.port],
    );
    assert.equal((c.client_properties as Obj).product, "amqplib");
    assert.equal(typeof c.connected_at, "number");
    const name = encodeURIComponent(String(c.name));
    assert.equal((await api<Obj>("GET", `/api/connections/${name}`)).body.peer_port, c.peer_port);

    const chans = (await api<Obj[]>("GET", `/api/connections/${name}/channels`)).body;
    assert.deepEqual(
      chans.map((x) => [x.name, x.number, x.consumer_count, x.prefetch_count, x.confirm]),
      [
        [`${c.name} (1)`, 1, 1, 7, false],
        [`${c.name} (2)`, 2, 0, 0, true],
      ],
    );
    const allChans = (await api<Obj[]>("GET", "/api/channels")).body;
    assert.ok(allChans.some((x) => x.name === `${c.name} (2)`));
    const one = (await api<Obj>("GET", `/api/channels/${encodeURIComponent(`${c.name} (1)`)}`)).body;
    assert.deepEqual(one.connection_details, {
      name: c.name,
      peer_host: c.peer_host,
      peer_port: c.peer_port,
    });

    const consumers = (await api<Obj[]>("GET", "/api/consumers/%2F")).body;
    const k = consumers.find((x) => x.consumer_tag === "worker-1") as Obj;
    assert.deepEqual(k.queue, { name: "work", vhost: "/" });
    assert.deepEqual([k.ack_required, k.prefetch_count, k.exclusive], [true, 7, false]);
    assert.equal((k.channel_details as Obj).connection_name, c.name);
    const o = (await api<Obj>("GET", "/api/overview")).body.object_totals as Obj;
    assert.ok((o.connections as number) >= 1 && (o.channels as number) >= 2 && (o.consumers as number) >= 1);
    await confirms.close();
    await conn.close();
    // the broker forgets the connection when its socket closes, a moment after the client's close-ok
    for (let i = 0; i < 50 && (await api("GET", `/api/connections/${name}`)).status !== 404; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal((await api("GET", `/api/connections/${name}`)).status, 404);
  });

  it("DELETE closes a connection: the client hears 320 CONNECTION_FORCED with the X-Reason text", async () => {
    const conn = await amqplib.connect(proc.url, { clientProperties: { connection_name: "to-close" } });
    const closed = new Promise<Error>((resolve) => conn.on("close", (e: Error) => resolve(e)));
    conn.on("error", () => undefined);
    const c = (await api<Obj[]>("GET", "/api/connections")).body.find(
      (x) => x.user_provided_name === "to-close",
    );
    const res = await fetch(`http://${proc.http}/api/connections/${encodeURIComponent(String(c?.name))}`, {
      method: "DELETE",
      headers: {
        authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`,
        "x-reason": "maintenance",
      },
    });
    assert.equal(res.status, 204);
    const err = await closed;
    assert.match(err.message, /320 \(CONNECTION-FORCED\) with message "CONNECTION_FORCED - maintenance"/);
    assert.equal((await api("DELETE", "/api/connections/nobody")).status, 404);
  });
});

describe("health checks", () => {
  it("alarms is ok without alarms; port-listener is ok on the broker's ports and 503 elsewhere", async () => {
    const alarms = await api<Obj>("GET", "/api/health/checks/alarms");
    assert.deepEqual([alarms.status, alarms.body], [200, { status: "ok" }]);
    const ok = await api<Obj>("GET", `/api/health/checks/port-listener/${proc.port}`);
    assert.deepEqual([ok.status, ok.body], [200, { status: "ok", port: proc.port }]);
    const httpPort = Number(proc.http.split(":")[1]);
    const missing = await api<Obj>("GET", "/api/health/checks/port-listener/1");
    assert.equal(missing.status, 503);
    assert.deepEqual(
      [missing.body.status, missing.body.reason, missing.body.missing],
      ["failed", "No active listener", 1],
    );
    assert.ok((missing.body.ports as number[]).includes(httpPort));
    assert.equal((await api("GET", "/api/health/checks/port-listener/x1")).status, 400);
  });

  it("alarms answers 503 with RabbitMQ's alarm list while the disk alarm is raised", async () => {
    // no disk has this much free space: the disk alarm is raised at start
    const alarmed = await startSpindle(["--disk-free-limit", "1000TB"]);
    try {
      const res = await httpApi(alarmed.http)<Obj>("GET", "/api/health/checks/alarms");
      assert.equal(res.status, 503);
      assert.equal(res.body.status, "failed");
      assert.equal(res.body.reason, "There are alarms in effect in the cluster");
      assert.deepEqual(
        (res.body.alarms as Obj[]).map((a) => a.resource),
        ["disk"],
      );
      const nodes = (await httpApi(alarmed.http)<Obj[]>("GET", "/api/nodes")).body;
      assert.deepEqual([nodes[0]?.disk_free_alarm, nodes[0]?.mem_alarm], [true, false]);
    } finally {
      await alarmed.stop();
    }
  });
});
