// Definitions export and import over the management API against real `spindle` processes: the export has
// RabbitMQ's format, imports into an empty broker and back unchanged, importing twice changes nothing, and
// a file that cannot be imported whole (an inequivalent queue, what Spindle does not have) changes nothing.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import amqplib from "amqplib";
import { httpApi } from "../support/http-api.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

type Obj = Record<string, unknown>;

let source: SpindleProcess;
let target: SpindleProcess;
let src: ReturnType<typeof httpApi>;
let dst: ReturnType<typeof httpApi>;

before(async () => {
  [source, target] = await Promise.all([startSpindle(), startSpindle()]);
  src = httpApi(source.http);
  dst = httpApi(target.http);
  await src("PUT", "/api/exchanges/%2F/orders", { type: "topic", durable: true });
  await src("PUT", "/api/exchanges/%2F/dead", { type: "fanout", durable: true, internal: true });
  await src("PUT", "/api/queues/%2F/billing", {
    durable: true,
    arguments: { "x-dead-letter-exchange": "dead", "x-max-length": 1000 },
  });
  await src("PUT", "/api/queues/%2F/scratch", { durable: false, auto_delete: true });
  await src("POST", "/api/bindings/%2F/e/orders/q/billing", { routing_key: "order.#", arguments: { v: 2 } });
  await src("POST", "/api/bindings/%2F/e/orders/e/dead", { routing_key: "x" });
});
after(() => Promise.all([source?.stop(), target?.stop()]));

/** What an export holds besides its header, in a comparable order. */
function body(defs: Obj): Obj {
  const { rabbit_version: _a, rabbitmq_version: _b, product_version: _c, ...rest } = defs;
  return rest;
}

describe("definitions", () => {
  it("exports RabbitMQ's format: no exclusive queues, no amq.* or default exchanges, no default bindings", async () => {
    const conn = await amqplib.connect(source.url);
    const ch = await conn.createChannel();
    await ch.assertQueue("mine-only", { exclusive: true });
    await ch.bindQueue("mine-only", "orders", "#");
    const defs = (await src<Obj>("GET", "/api/definitions")).body;
    await conn.close();
    assert.equal(defs.product_name, "Spindle");
    for (const k of ["rabbit_version", "rabbitmq_version"]) assert.equal(typeof defs[k], "string", k);
    assert.deepEqual(
      (defs.users as Obj[]).map((u) => [u.name, u.tags, u.hashing_algorithm]),
      [["guest", ["administrator"], "rabbit_password_hashing_sha256"]],
    );
    assert.deepEqual(defs.vhosts, [
      { name: "/", limits: [], metadata: { description: "Default virtual host", tags: [] } },
    ]);
    assert.deepEqual(defs.permissions, [
      { user: "guest", vhost: "/", configure: ".*", write: ".*", read: ".*" },
    ]);
    assert.deepEqual([defs.parameters, defs.policies], [[], []]);
    assert.deepEqual(defs.queues, [
      {
        name: "billing",
        vhost: "/",
        durable: true,
        auto_delete: false,
        arguments: { "x-dead-letter-exchange": "dead", "x-max-length": 1000 },
        type: "classic",
      },
      { name: "scratch", vhost: "/", durable: false, auto_delete: true, arguments: {}, type: "classic" },
    ]);
    assert.deepEqual(
      (defs.exchanges as Obj[]).map((e) => [e.name, e.type, e.internal]),
      [
        ["orders", "topic", false],
        ["dead", "fanout", true],
      ],
    );
    assert.deepEqual(defs.bindings, [
      {
        source: "orders",
        vhost: "/",
        destination: "billing",
        destination_type: "queue",
        routing_key: "order.#",
        arguments: { v: 2 },
      },
      {
        source: "orders",
        vhost: "/",
        destination: "dead",
        destination_type: "exchange",
        routing_key: "x",
        arguments: {},
      },
    ]);
    const scoped = (await src<Obj>("GET", "/api/definitions/%2F")).body;
    assert.equal(scoped.users, undefined);
    assert.equal((scoped.queues as Obj[])[0]?.vhost, undefined, "a vhost's export leaves the vhost out");
  });

  it("imports into an empty broker, which then exports the same; a second import changes nothing", async () => {
    const defs = (await src<Obj>("GET", "/api/definitions")).body;
    assert.equal((await dst("POST", "/api/definitions", defs)).status, 204);
    const once = (await dst<Obj>("GET", "/api/definitions")).body;
    assert.deepEqual(body(once), body(defs));
    assert.equal((await dst("POST", "/api/definitions", defs)).status, 204);
    assert.deepEqual((await dst<Obj>("GET", "/api/definitions")).body, once);
    // what was imported works: a publish to orders reaches billing through the imported binding
    const routed = await dst<Obj>("POST", "/api/exchanges/%2F/orders/publish", {
      routing_key: "order.new",
      payload: "x",
      payload_encoding: "string",
      properties: {},
    });
    assert.deepEqual(routed.body, { routed: true });
    // the vhost form takes a vhost's export
    const scoped = (await src<Obj>("GET", "/api/definitions/%2F")).body;
    assert.equal((await dst("POST", "/api/definitions/%2F", scoped)).status, 204);
    assert.deepEqual((await dst<Obj>("GET", "/api/definitions")).body, once);
  });

  it("refuses a file that cannot be imported whole, naming the entry, and changes nothing", async () => {
    const before = (await dst<Obj>("GET", "/api/definitions")).body;
    const refused = async (file: Obj, reason: RegExp) => {
      const res = await dst<Obj>("POST", "/api/definitions", file);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.match(String(res.body.reason), reason);
      assert.deepEqual((await dst<Obj>("GET", "/api/definitions")).body, before);
    };
    const newQueue = { name: "fresh", vhost: "/", durable: true, auto_delete: false, arguments: {} };
    await refused(
      {
        queues: [
          newQueue,
          { name: "billing", vhost: "/", durable: false, auto_delete: false, arguments: {} },
        ],
      },
      /^inequivalent arg 'durable' for queue 'billing' in vhost '\/': received 'false' but current is 'true'$/,
    );
    await refused(
      { queues: [newQueue], vhosts: [{ name: "staging" }] },
      /vhost "staging": Spindle has the one vhost/,
    );
    await refused({ queues: [newQueue], users: [{ name: "alice" }] }, /user "alice"/);
    await refused(
      { queues: [newQueue], policies: [{ name: "ha", pattern: ".*", definition: {} }] },
      /policy "ha": policies are not supported/,
    );
    await refused(
      {
        queues: [newQueue],
        bindings: [
          { source: "orders", vhost: "/", destination: "ghost", destination_type: "queue", routing_key: "" },
        ],
      },
      /no queue 'ghost'/,
    );
    await refused({ queues: [{ ...newQueue, arguments: { "x-max-length": "many" } }] }, /x-max-length/);
    await refused({ queues: "billing" }, /'queues' must be a list/);
    const bad = await dst<Obj>("POST", "/api/definitions", "{ nope");
    assert.equal(bad.status, 400);
  });
});
