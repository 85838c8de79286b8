// Debian's `rabbitmqadmin` (RabbitMQ 3.10's, a Python script) run unchanged against a real `spindle`
// process: declare/list/delete queues, exchanges and bindings, publish and get, purge, connections,
// channels and consumers of an amqplib client, close, export/import, and its raw_json and tsv output.
// Without rabbitmqadmin the suite fails and says which package to install: it never skips.

import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import amqplib from "amqplib";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

type Obj = Record<string, unknown>;

let proc: SpindleProcess;
const dir = mkdtempSync(join(tmpdir(), "spindle-rabbitmqadmin-"));

before(async () => {
  const found = spawnSync("rabbitmqadmin", ["--version"], { encoding: "utf8" });
  assert.equal(
    found.status,
    0,
    "rabbitmqadmin is not installed: `apt-get install -y rabbitmq-server` (Debian ships it in that package)",
  );
  proc = await startSpindle();
});
after(async () => {
  await proc?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs rabbitmqadmin against the broker's HTTP port, feeding `stdin` if given. */
function admin(args: string[], stdin?: string): Promise<Run> {
  const port = proc.http.split(":")[1] as string;
  const argv = ["-H", "127.0.0.1", "-P", port, "-u", "guest", "-p", "guest", ...args];
  return new Promise((resolve) => {
    const child = execFile("rabbitmqadmin", argv, { timeout: 60_000 }, (e, out, err) =>
      resolve({ code: e === null ? 0 : typeof e.code === "number" ? e.code : 1, out, err }),
    );
    child.stdin?.end(stdin ?? "");
  });
}

/** Runs it and expects success; returns stdout. */
async function ok(...args: string[]): Promise<string> {
  const r = await admin(args);
  assert.equal(r.code, 0, `rabbitmqadmin ${args.join(" ")}: ${r.err}${r.out}`);
  return r.out;
}

const json = async (...args: string[]) => JSON.parse(await ok("-f", "raw_json", ...args)) as Obj[];

/** `-f tsv` output as rows of the named columns (the first line is the header). */
function tsv(out: string): Record<string, string>[] {
  const [head, ...rows] = out.trimEnd().split("\n");
  const cols = (head ?? "").split("\t");
  return rows.map((r) => Object.fromEntries(r.split("\t").map((v, i) => [cols[i], v])));
}

describe("rabbitmqadmin against spindle", () => {
  it("declares, lists and deletes queues, exchanges and bindings", async () => {
    assert.match(await ok("declare", "queue", "name=orders", "durable=true"), /queue declared/);
    await ok("declare", "queue", "name=audit", "durable=false", 'arguments={"x-max-length": 5}');
    await ok("declare", "exchange", "name=events", "type=topic");
    await ok("declare", "binding", "source=events", "destination=orders", "routing_key=order.*");
    await ok(
      "declare",
      "binding",
      "source=events",
      "destination=audit",
      "routing_key=#",
      'arguments={"k":1}',
    );
    const queues = await json("list", "queues");
    const audit = queues.find((q) => q.name === "audit") as Obj;
    assert.deepEqual([audit.durable, audit.arguments, audit.messages], [false, { "x-max-length": 5 }, 0]);
    const exchanges = tsv(await ok("-f", "tsv", "list", "exchanges", "name", "type", "durable"));
    assert.deepEqual(
      exchanges.find((e) => e.name === "events"),
      { name: "events", type: "topic", durable: "True" },
    );
    const bindings = tsv(
      await ok("-V", "/", "-f", "tsv", "list", "bindings", "source", "destination", "routing_key"),
    );
    assert.deepEqual(
      bindings.filter((b) => b.source === "events"),
      [
        { source: "events", destination: "audit", routing_key: "#" },
        { source: "events", destination: "orders", routing_key: "order.*" },
      ],
    );
    const key = (await json("list", "bindings")).find(
      (b) => b.destination === "audit" && b.source === "events",
    );
    await ok(
      "delete",
      "binding",
      "source=events",
      "destination_type=queue",
      "destination=audit",
      `properties_key=${key?.properties_key}`,
    );
    await ok(
      "delete",
      "binding",
      "source=events",
      "destination_type=queue",
      "destination=orders",
      "properties_key=order.*",
    );
    assert.equal((await json("list", "bindings")).filter((b) => b.source === "events").length, 0);
    await ok("delete", "exchange", "name=events");
    await ok("delete", "queue", "name=audit");
    assert.deepEqual(
      (await json("list", "queues", "name")).map((q) => q.name),
      ["orders"],
    );
  });

  it("reports RabbitMQ's reason for an inequivalent declare and a missing queue, exiting 1", async () => {
    const r = await admin(["declare", "queue", "name=orders", "durable=false"]);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /inequivalent arg 'durable' for queue 'orders' in vhost '\/': received 'false' but current is 'true'/,
    );
    const missing = await admin(["get", "queue=nowhere"]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /Not found: \/api\/queues\/%2F\/nowhere\/get/);
  });

  it("publishes (argument and stdin) and gets, with each ackmode; purges", async () => {
    await ok("declare", "queue", "name=inbox", "durable=true");
    assert.match(
      await ok("publish", "routing_key=inbox", "payload=hello", 'properties={"content_type":"text/plain"}'),
      /Message published$/m,
    );
    const viaStdin = await admin(["publish", "routing_key=inbox"], "from stdin \u00e9");
    assert.equal(viaStdin.code, 0, viaStdin.err);
    assert.match(await ok("publish", "routing_key=nobody"), /published but NOT routed/);
    const peek = await json("get", "queue=inbox", "count=5");
    assert.deepEqual(
      peek.map((m) => [m.payload, m.payload_encoding, m.redelivered, m.message_count]),
      [
        ["hello", "string", false, 1],
        ["from stdin \u00e9", "string", false, 0],
      ],
    );
    assert.deepEqual(peek[0]?.properties, { content_type: "text/plain" });
    const table = await ok("get", "queue=inbox", "ackmode=ack_requeue_false");
    assert.match(table, /\| hello +\|/);
    assert.match(table, /\| True +\|/, "the first get requeued: redelivered");
    const queue = (await json("list", "queues")).find((q) => q.name === "inbox") as Obj;
    assert.deepEqual([queue.messages, (queue.message_stats as Obj).publish], [1, 2]);
    assert.match(await ok("purge", "queue", "name=inbox"), /queue purged/);
    assert.deepEqual(await json("get", "queue=inbox"), []);
  });

  it("lists the connections, channels and consumers of an amqplib client, and closes its connection", async () => {
    const conn = await amqplib.connect(proc.url, { clientProperties: { connection_name: "admin-test" } });
    const closed = new Promise<Error>((resolve) => conn.on("close", (e: Error) => resolve(e)));
    conn.on("error", () => undefined);
    const ch = await conn.createChannel();
    await ch.prefetch(3);
    await ch.consume("orders", () => undefined, { consumerTag: "c-1" });
    const conns = tsv(
      await ok("-f", "tsv", "list", "connections", "name", "user", "channels", "user_provided_name"),
    );
    const mine = conns.find((c) => c.user_provided_name === "admin-test") as Record<string, string>;
    assert.deepEqual([mine.user, mine.channels], ["guest", "1"]);
    const channels = tsv(
      await ok("-f", "tsv", "list", "channels", "name", "prefetch_count", "consumer_count"),
    );
    assert.deepEqual(channels, [{ name: `${mine.name} (1)`, prefetch_count: "3", consumer_count: "1" }]);
    const consumers = await json("list", "consumers");
    assert.deepEqual(
      consumers.map((k) => [k.consumer_tag, (k.queue as Obj).name, k.ack_required, k.prefetch_count]),
      [["c-1", "orders", true, 3]],
    );
    assert.match(await ok("close", "connection", `name=${mine.name}`), /connection closed/);
    assert.match((await closed).message, /CONNECTION_FORCED - Closed via management plugin/);
  });

  it("exports definitions and imports them back, twice, to the same result", async () => {
    await ok("declare", "exchange", "name=billing", "type=direct");
    await ok("declare", "queue", "name=invoices", "durable=true", 'arguments={"x-message-ttl": 60000}');
    await ok("declare", "binding", "source=billing", "destination=invoices", "routing_key=invoice");
    const first = join(dir, "first.json");
    assert.match(await ok("export", first), /Exported definitions/);
    const exported = JSON.parse(readFileSync(first, "utf8")) as Obj;
    assert.equal(exported.product_name, "Spindle");
    await ok("delete", "queue", "name=invoices");
    await ok("delete", "exchange", "name=billing");
    assert.match(await ok("import", first), /Uploaded definitions/);
    await ok("import", first);
    const second = join(dir, "second.json");
    await ok("export", second);
    assert.deepEqual(JSON.parse(readFileSync(second, "utf8")), exported);
    const ttl = (await json("list", "queues")).find((q) => q.name === "invoices")?.arguments;
    assert.deepEqual(ttl, { "x-message-ttl": 60000 });
  });

  it("shows the overview and lists vhosts and nodes", async () => {
    const overview = tsv(await ok("-f", "tsv", "show", "overview"));
    assert.equal(overview[0]?.cluster_name, "spindle");
    assert.match(overview[0]?.["object_totals.queues"] ?? "", /^\d+$/);
    assert.deepEqual(
      (await json("list", "vhosts")).map((v) => v.name),
      ["/"],
    );
    assert.match((await json("list", "nodes"))[0]?.name as string, /^spindle@/);
  });
});
