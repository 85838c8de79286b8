// Live data (`GET /api/stream`, server-sent events) against a real `spindle` process: events read with
// fetch show the rates move after publishing with amqplib and producing with kafkajs, the queue's depth,
// a group's lag and the AMQP connection.

import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import amqplib from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { GUEST_AUTH, httpApi } from "../support/http-api.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

type Obj = Record<string, unknown>;

let proc: SpindleProcess;

before(async () => {
  proc = await startSpindle();
});
after(() => proc?.stop());

/** The `stats` events of a stream, parsed, as they come; comments and other fields are skipped. */
async function* statsEvents(res: Response): AsyncGenerator<Obj> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const text = new TextDecoder();
  let buffered = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffered += text.decode(value, { stream: true });
      for (let end = buffered.indexOf("\n\n"); end >= 0; end = buffered.indexOf("\n\n")) {
        const block = buffered.slice(0, end).split("\n");
        buffered = buffered.slice(end + 2);
        const data = block.find((l) => l.startsWith("data: "));
        if (block.includes("event: stats") && data !== undefined) yield JSON.parse(data.slice(6)) as Obj;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The first event `ok` accepts, within `ms`. */
async function until(events: AsyncGenerator<Obj>, ms: number, ok: (e: Obj) => boolean): Promise<Obj> {
  const deadline = Date.now() + ms;
  for (;;) {
    assert.ok(Date.now() < deadline, "no such event in time");
    const { value, done } = await events.next();
    assert.ok(!done, "the stream ended");
    if (ok(value)) return value;
  }
}

it("needs the API's credentials", async () => {
  const res = await fetch(`http://${proc.http}/api/stream`);
  assert.equal(res.status, 401);
  await res.body?.cancel();
});

it("streams rates that follow AMQP publishes and Kafka produces, depths, lag and connections", async () => {
  const api = httpApi(proc.http);
  assert.equal((await api("PUT", "/api/queues/%2F/live-jobs", { durable: true })).status, 201);
  const res = await fetch(`http://${proc.http}/api/stream?interval_ms=250`, {
    headers: { authorization: GUEST_AUTH, accept: "text/event-stream" },
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  const events = statsEvents(res);
  const first = (await events.next()).value as Obj;
  assert.deepEqual(Object.keys(first.rates as Obj).sort(), [
    "acked",
    "confirmed",
    "dead_lettered",
    "dead_lettered_by_reason",
    "delivered",
    "fetch_bytes",
    "produce_bytes",
    "published",
    "redelivered",
  ]);
  assert.deepEqual(first.alarms, []);
  assert.ok((first.memory_bytes as number) > 0 && (first.disk_free_bytes as number) > 0);

  const conn = await amqplib.connect(proc.url);
  const ch = await conn.createConfirmChannel();
  for (let i = 0; i < 500; i++) ch.sendToQueue("live-jobs", Buffer.from(`job ${i}`), { persistent: true });
  await ch.waitForConfirms();
  const seen: Obj[] = [];
  await until(events, 10_000, (e) => {
    seen.push(e.rates as Obj);
    return (e.totals as Obj).confirmed === 500;
  });
  assert.ok(seen.some((r) => (r.published as number) > 0));
  assert.ok(seen.some((r) => (r.confirmed as number) > 0));

  const kafka = new Kafka({ clientId: "live", brokers: [proc.kafka], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: "live-topic",
    acks: -1,
    messages: Array.from({ length: 100 }, (_, i) => ({ value: `record ${i}`.padEnd(100) })),
  });
  await producer.disconnect();
  const produced = await until(events, 10_000, (e) => ((e.rates as Obj).produce_bytes as number) > 0);
  assert.ok(((produced.totals as Obj).produce_bytes as number) > 100 * 100);
  const offsets = await kafka.admin();
  await offsets.connect();
  await offsets.setOffsets({
    groupId: "live-group",
    topic: "live-topic",
    partitions: [{ partition: 0, offset: "40" }],
  });
  await offsets.disconnect();

  const later = await until(
    events,
    10_000,
    (e) =>
      (e.groups as Obj[]).some((g) => g.group_id === "live-group" && g.lag === 60) && e.connections === 1,
  );
  assert.deepEqual(
    (later.queues as Obj[]).find((q) => q.name === "live-jobs"),
    { name: "live-jobs", messages: 500, messages_ready: 500, messages_unacknowledged: 0, consumers: 0 },
  );
  assert.deepEqual(
    (later.groups as Obj[]).find((g) => g.group_id === "live-group"),
    { group_id: "live-group", lag: 60 },
  );
  assert.equal(later.channels, 1);
  await conn.close();
  await events.return(undefined);
});
