// Peek and move (DLQ redrive) over HTTP against a real `spindle` process, with amqplib as the client that
// publishes, dead-letters and reads back: pages and filters leave `redelivered` alone, a dead-lettered
// message moved back keeps its x-death, count and filter, NDJSON progress, errors, and a SIGKILL in the
// middle of a 200,000-message move that loses nothing.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import amqplib from "amqplib";
import { httpApi } from "../support/http-api.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

type Obj = Record<string, unknown>;
interface Peeked {
  position: number;
  state: string;
  redelivered: boolean;
  payload: string;
  routing_key: string;
  properties: { headers?: Obj; message_id?: string; content_type?: string };
}
interface Page {
  messages: Peeked[];
  next: number | null;
}

let proc: SpindleProcess;
let api: ReturnType<typeof httpApi>;
let conn: amqplib.ChannelModel;

before(async () => {
  proc = await startSpindle();
  api = httpApi(proc.http);
  conn = await amqplib.connect(proc.url);
});
after(async () => {
  await conn?.close().catch(() => undefined);
  await proc?.stop();
});

async function declare(name: string, args: Obj = {}): Promise<void> {
  const r = await api("PUT", `/api/queues/%2F/${name}`, { durable: true, arguments: args });
  assert.ok(r.status === 201 || r.status === 204, `declare ${name}: ${r.status}`);
}

/** Publishes with confirms: body `${prefix}${i}`, message id `${i}`, header kind. */
async function publish(queue: string, n: number, kind: (i: number) => string, prefix = "m"): Promise<void> {
  const ch = await conn.createConfirmChannel();
  for (let i = 0; i < n; i++) {
    ch.sendToQueue(queue, Buffer.from(`${prefix}${i}`), {
      persistent: true,
      messageId: String(i),
      contentType: "text/plain",
      headers: { kind: kind(i) },
    });
    if (i % 5000 === 4999) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  await ch.close();
}

async function peek(queue: string, query = ""): Promise<Page> {
  const r = await api<Page>("GET", `/api/queues/%2F/${queue}/messages${query}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

async function move(queue: string, body: unknown) {
  return api<Obj>("POST", `/api/queues/%2F/${queue}/move`, body);
}

/** Every message of the queue by basic.get (no ack): bodies in order. */
async function drain(queue: string): Promise<string[]> {
  const ch = await conn.createChannel();
  const out: string[] = [];
  for (let m = await ch.get(queue, { noAck: true }); m !== false; m = await ch.get(queue, { noAck: true }))
    out.push(m.content.toString());
  await ch.close();
  return out;
}

describe("peek", () => {
  it("pages through a queue in order, filters by payload or header, and leaves redelivered unset", async () => {
    await declare("peek-q");
    await publish("peek-q", 10, (i) => (i % 4 === 0 ? "needle" : "hay"));
    const seen: string[] = [];
    let page = await peek("peek-q", "?limit=3");
    let pages = 1;
    while (true) {
      seen.push(...page.messages.map((m) => m.payload));
      assert.ok(page.messages.every((m) => m.state === "ready" && m.redelivered === false));
      if (page.next === null) break;
      page = await peek("peek-q", `?limit=3&from=${page.next}`);
      pages++;
    }
    assert.equal(pages, 4);
    assert.deepEqual(
      seen,
      Array.from({ length: 10 }, (_, i) => `m${i}`),
    );
    const byHeader = await peek("peek-q", "?filter=needle");
    assert.deepEqual(
      byHeader.messages.map((m) => m.properties.message_id),
      ["0", "4", "8"],
    );
    assert.deepEqual(byHeader.messages[0]?.properties.headers, { kind: "needle" });
    assert.deepEqual(
      (await peek("peek-q", "?filter=m7")).messages.map((m) => m.payload),
      ["m7"],
    );

    const ch = await conn.createChannel();
    const first = await ch.get("peek-q", { noAck: false });
    assert.ok(first !== false);
    assert.equal(first.content.toString(), "m0");
    assert.equal(first.fields.redelivered, false, "the peeks did not mark it redelivered");
    const states = (await peek("peek-q", "?limit=2")).messages.map((m) => [m.payload, m.state]);
    assert.deepEqual(states, [
      ["m0", "unacked"],
      ["m1", "ready"],
    ]);
    ch.nack(first, false, true);
    await ch.close();
    const back = (await peek("peek-q", "?limit=1")).messages[0];
    assert.deepEqual([back?.payload, back?.state, back?.redelivered], ["m0", "ready", true]);
  });

  it("answers 404 for an unknown queue and 400 for a bad limit", async () => {
    assert.equal((await api("GET", "/api/queues/%2F/nope/messages")).status, 404);
    assert.equal((await api("GET", "/api/queues/other/peek-q/messages")).status, 404);
    const bad = await api<Obj>("GET", "/api/queues/%2F/peek-q/messages?limit=5000");
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.reason), /limit/);
  });
});

describe("move", () => {
  it("moves a dead-lettered message back to its queue with its x-death header and properties", async () => {
    await api("PUT", "/api/exchanges/%2F/dlx", { type: "fanout", durable: true });
    await declare("orders-dlq");
    await api("POST", "/api/bindings/%2F/e/dlx/q/orders-dlq", { routing_key: "" });
    await declare("orders", { "x-dead-letter-exchange": "dlx" });
    await publish("orders", 3, () => "order", "order-");
    const ch = await conn.createChannel();
    for (let i = 0; i < 3; i++) {
      const m = await ch.get("orders", { noAck: false });
      assert.ok(m !== false);
      ch.nack(m, false, false); // requeue=false: dead-lettered into orders-dlq
    }
    await new Promise((r) => setTimeout(r, 200));
    const dead = await peek("orders-dlq");
    assert.equal(dead.messages.length, 3);
    const deaths = dead.messages[0]?.properties.headers?.["x-death"] as Obj[] | undefined;
    const death = deaths?.[0] ?? {};
    assert.deepEqual([death.queue, death.reason, death.count], ["orders", "rejected", 1]);
    assert.equal(
      (await peek("orders-dlq", "?filter=rejected")).messages.length,
      3,
      "header values nested in x-death match",
    );

    const moved = await move("orders-dlq", { destination: "orders" });
    assert.equal(moved.status, 200);
    assert.deepEqual(moved.body, { moved: 3 });
    assert.equal((await peek("orders-dlq")).messages.length, 0);
    const back = await ch.get("orders", { noAck: true });
    assert.ok(back !== false);
    assert.equal(back.content.toString(), "order-0");
    assert.equal(back.properties.messageId, "0");
    assert.equal(back.properties.contentType, "text/plain");
    assert.equal(back.fields.redelivered, false);
    const headers = back.properties.headers as Obj;
    assert.equal(headers.kind, "order");
    assert.equal(headers["x-first-death-reason"], "rejected");
    const xDeath = (headers["x-death"] as Obj[])[0] as Obj;
    assert.deepEqual([xDeath.queue, xDeath.reason, xDeath.exchange], ["orders", "rejected", ""]);
    await ch.close();
  });

  it("moves at most `count` of the messages the filter matches, oldest first", async () => {
    await declare("retry-src");
    await declare("retry-dst");
    await publish("retry-src", 20, (i) => (i % 3 === 0 ? "retry" : "keep"));
    const r = await move("retry-src", { destination: "retry-dst", count: 3, filter: "retry" });
    assert.deepEqual(r.body, { moved: 3 });
    assert.deepEqual(await drain("retry-dst"), ["m0", "m3", "m6"]);
    const left = await drain("retry-src");
    assert.equal(left.length, 17);
    assert.deepEqual(left.slice(0, 4), ["m1", "m2", "m4", "m5"]);
  });

  it("streams NDJSON progress lines, one per batch, and a last line with done", async () => {
    await declare("nd-src");
    await declare("nd-dst");
    await publish("nd-src", 2500, () => "x");
    const res = await fetch(`http://${proc.http}/api/queues/%2F/nd-src/move`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`,
        "content-type": "application/json",
        accept: "application/x-ndjson",
      },
      body: JSON.stringify({ destination: "nd-dst" }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/x-ndjson/);
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Obj);
    assert.deepEqual(lines, [
      { moved: 0, total: 2500 },
      { moved: 1000, total: 2500 },
      { moved: 2000, total: 2500 },
      { moved: 2500, total: 2500 },
      { moved: 2500, total: 2500, done: true },
    ]);
    assert.equal((await drain("nd-dst")).length, 2500);
  });

  it("refuses an unknown queue or destination (404), a move to itself and bad JSON (400)", async () => {
    await declare("err-src");
    const noSource = await move("nope", { destination: "err-src" });
    assert.equal(noSource.status, 404);
    const noDest = await move("err-src", { destination: "nope" });
    assert.equal(noDest.status, 404);
    assert.match(String(noDest.body.reason), /nope/);
    const self = await move("err-src", { destination: "err-src" });
    assert.equal(self.status, 400);
    assert.match(String(self.body.reason), /itself/);
    assert.equal((await move("err-src", "{not json")).status, 400);
    assert.equal((await move("err-src", {})).status, 400, "destination missing");
    const badCount = await move("err-src", { destination: "retry-dst", count: -1 });
    assert.equal(badCount.status, 400);
    assert.match(String(badCount.body.reason), /count/);
  });
});
