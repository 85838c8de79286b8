// Unit tests of the live-data stream through `app.request()` on a fake clock: rates between samples, one
// shared sampler that stops with its last client, and a client that does not read being cut off.
// Invariant: each test fails if events stop coming, rates are wrong, a timer is left running or a slow
// client makes the stream buffer past its limit.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LIMITS, silentLogger } from "../../lib/index.ts";
import { MessageStats } from "../../queues/index.ts";
import { FakeClock, tempDir } from "../../testing/index.ts";
import type { HttpContext } from "./context.ts";
import { errorResponse } from "./errors.ts";
import { liveRoutes } from "./live.ts";

/** The routes with the app's error mapping (a BrokerError answers its status). */
const liveApp = (ctx: HttpContext) => liveRoutes(ctx).onError((e, c) => errorResponse(c, e));

/** The parts of the context the stream reads; one queue whose depth the test sets. */
function fakeContext() {
  const clock = new FakeClock();
  const stats = new MessageStats();
  const traffic = { producedBytes: 0, producedBatches: 0, fetchedBytes: 0 };
  const queue = { name: "jobs", messageCount: 0, unackedCount: 0, consumerCount: 0 };
  const ctx = {
    vhost: { stats, queues: new Map([["jobs", queue]]) },
    streams: { traffic, topics: {}, groups: { list: () => [] } },
    amqp: { list: () => [] },
    alarm: () => "low on disk",
    memory: { totalBytes: 123 },
    clock,
    logger: silentLogger,
    dataDir: tempDir("live"),
  } as unknown as HttpContext;
  return { ctx, clock, stats, traffic, queue };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Reads SSE events (`stats` data parsed) as they come. */
function events(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const text = new TextDecoder();
  let buffered = "";
  return {
    reader,
    async next(): Promise<Record<string, unknown>> {
      for (;;) {
        const end = buffered.indexOf("\n\n");
        if (end >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = block.split("\n").find((l) => l.startsWith("data: "));
          if (block.includes("event: stats") && data !== undefined) return JSON.parse(data.slice(6));
          continue;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended");
        buffered += text.decode(value, { stream: true });
      }
    },
  };
}

/** Advances the fake clock by one interval and lets the sample (statfs) finish. */
async function interval(clock: FakeClock, ms = 1000): Promise<void> {
  clock.advance(ms);
  for (let i = 0; i < 20; i++) await tick();
  await new Promise((r) => setTimeout(r, 5));
}

describe("GET /stream", () => {
  it("sends a stats event per interval with rates per second, depths, alarms and memory", async () => {
    const { ctx, clock, stats, traffic, queue } = fakeContext();
    const res = await liveApp(ctx).request("/stream?interval_ms=500");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const ev = events(res);
    stats.received += 50;
    stats.deadLettered.rejected += 5;
    traffic.producedBytes += 1000;
    queue.messageCount = 7;
    await interval(clock, 500);
    const first = await ev.next();
    const rates = first.rates as Record<string, unknown>;
    assert.equal(rates.published, 100, "50 in half a second");
    assert.equal(rates.dead_lettered, 10);
    assert.deepEqual(rates.dead_lettered_by_reason, {
      rejected: 10,
      expired: 0,
      maxlen: 0,
      delivery_limit: 0,
    });
    assert.equal(rates.produce_bytes, 2000);
    assert.equal((first.totals as Record<string, unknown>).published, 50);
    assert.deepEqual(first.queues, [
      { name: "jobs", messages: 7, messages_ready: 7, messages_unacknowledged: 0, consumers: 0 },
    ]);
    assert.deepEqual(first.alarms, ["disk"]);
    assert.equal(first.memory_held_bytes, 123);
    assert.equal(typeof first.disk_free_bytes, "number");
    await interval(clock, 500);
    assert.equal(((await ev.next()).rates as Record<string, unknown>).published, 0, "nothing new");
    await ev.reader.cancel();
  });

  it("shares one sampler between clients of an interval and stops it with the last one", async () => {
    const { ctx, clock } = fakeContext();
    const app = liveApp(ctx);
    const a = events(await app.request("/stream"));
    const b = events(await app.request("/stream"));
    assert.equal(clock.pendingTimers, 2, "one sampler (and its heartbeat) for both");
    const c = events(await app.request("/stream?interval_ms=2000"));
    assert.equal(clock.pendingTimers, 4, "another interval, another sampler");
    await interval(clock);
    const [ea, eb] = [await a.next(), await b.next()];
    assert.equal(ea.ts, eb.ts);
    await a.reader.cancel();
    await c.reader.cancel();
    assert.equal(clock.pendingTimers, 2);
    await b.reader.cancel();
    assert.equal(clock.pendingTimers, 0, "no client, no sampling");
  });

  it("drops events for a client that does not read, and closes its stream after a while", async () => {
    const { ctx, clock, queue } = fakeContext();
    // large events: 500 queues of long names, ~60 KB each
    const queues = ctx.vhost.queues as Map<string, unknown>;
    for (let i = 0; i < 500; i++) queues.set(`q${i}`, { ...queue, name: `q${i}`.padEnd(80, "x") });
    const res = await liveApp(ctx).request("/stream?queues=all");
    // ~17 events fill the buffer; then it stays full until the stream is closed (a sample slowed down by
    // a busy machine only makes it take more intervals)
    const start = clock.nowMs();
    for (let i = 0; i < 300 && clock.pendingTimers > 0; i++) await interval(clock);
    assert.equal(clock.pendingTimers, 0, "the stream was closed and its sampler stopped");
    assert.ok(
      clock.nowMs() - start >= LIMITS.liveClientBehindMsMax,
      "not before its buffer stayed full long enough",
    );
    let bytes = 0;
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength;
    assert.ok(
      bytes <= LIMITS.liveClientBufferBytesMax + 100_000,
      `held at most a buffer's worth and one event: ${bytes} bytes`,
    );
    assert.ok(bytes > 60_000 * 2, `some events were kept: ${bytes}`);
  });

  it("sends a comment line every 15 s, also between the events of a long interval", async () => {
    const { ctx, clock } = fakeContext();
    const res = await liveApp(ctx).request("/stream?interval_ms=60000");
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const text = new TextDecoder();
    assert.match(text.decode((await reader.read()).value), /^retry: 3000\n: /);
    await interval(clock, 15_000);
    assert.match(text.decode((await reader.read()).value), /^: keep-alive \d+\n\n$/);
    await reader.cancel();
  });

  it("refuses an interval out of range and an unknown queues option", async () => {
    const { ctx } = fakeContext();
    const app = liveApp(ctx);
    for (const q of ["interval_ms=100", "interval_ms=600001", "interval_ms=x", "queues=some"]) {
      const res = await app.request(`/stream?${q}`);
      assert.equal(res.status, 400, q);
    }
  });
});
