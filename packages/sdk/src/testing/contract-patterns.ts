// The contract suite's pattern cases: retries with their delays, dead letters and redrive, the circuit
// breaker pausing, rate limits, duplicates suppressed by the inbox (the same id twice; a consumer
// killed mid-handler), request/reply and reconnect. Real time with short delays, so they run on real
// brokers; bounds are one-sided where a busy machine can only make things later.

import assert from "node:assert/strict";
import { it } from "node:test";
import type { Bus, ConnectOptions } from "../bus.ts";
import { NonRetryableError } from "../errors.ts";
import { retry } from "../pipeline/retry.ts";
import { MemoryInbox } from "../stores/memory-inbox.ts";
import type { ContractHarness } from "./contract.ts";
import { uniqueName, waitFor } from "./wait.ts";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function patternCases(
  h: ContractHarness,
  open: (o?: ConnectOptions) => Promise<Bus>,
  timeoutMs: number,
): void {
  it("retries wait their delays: in process (fixed 150 ms) and through the broker (delayed copy, 400 ms)", async () => {
    const bus = await open();
    const topic = uniqueName("retry");
    const at: number[] = [];
    const policy = retry.custom({ attempts: 3, delayMs: (n) => (n === 1 ? 150 : 400), inProcessMaxMs: 200 });
    await bus.subscribe(topic, { group: "g", retry: policy }, (m) => {
      at.push(Date.now());
      assert.equal(m.attempt, at.length);
      if (m.attempt < 3) throw new Error("flaky");
    });
    await bus.publish(topic, "x");
    await waitFor("three attempts", () => at.length === 3, timeoutMs);
    const [a = 0, b = 0, c = 0] = at;
    assert.ok(b - a >= 145, `in-process retry after ${b - a} ms`);
    assert.ok(c - b >= 395, `delayed redelivery after ${c - b} ms`);
    await delay(200);
    assert.equal(at.length, 3, "no attempt after the success");
  });

  it("dead letters carry why; redrive sends them back to their group and reports how many", async () => {
    const bus = await open();
    const topic = uniqueName("dlq");
    const dlq = `${topic}.dead`;
    let broken = true;
    const handled: number[] = [];
    await bus.subscribe(
      topic,
      { group: "g", retry: retry.immediate({ attempts: 2 }), deadLetter: dlq },
      (m) => {
        if (broken)
          throw (m.data as number) % 2 ? new NonRetryableError("odd\nsecond line") : new Error("even 100%");
        handled.push(m.data as number);
      },
    );
    for (let i = 0; i < 4; i++) await bus.publish(topic, i, { key: `k${i}` });
    let dead = await bus.deadLetters(dlq);
    for (const start = Date.now(); dead.length < 4 && Date.now() - start < timeoutMs; await delay(50)) {
      dead = await bus.deadLetters(dlq);
    }
    assert.equal(dead.length, 4);
    const byData = new Map(dead.map((d) => [JSON.parse(d.message.body.toString()) as number, d]));
    assert.equal(byData.get(1)?.attempts, 1);
    assert.equal(byData.get(1)?.error.name, "NonRetryableError");
    assert.equal(byData.get(2)?.attempts, 2);
    assert.equal(byData.get(2)?.error.message, "even 100%");
    assert.equal(byData.get(1)?.error.message, "odd\nsecond line");
    assert.match(byData.get(1)?.error.stack ?? "", /^NonRetryableError: odd\nsecond line\n\s+at /u);
    assert.equal(byData.get(2)?.topic, topic);
    assert.equal(byData.get(2)?.group, "g");
    assert.equal(byData.get(2)?.message.key, "k2");
    assert.ok((byData.get(2)?.lastFailureMs ?? 0) >= (byData.get(2)?.firstFailureMs ?? 1));
    broken = false;
    const r = await bus.redrive(dlq, { filter: (d) => d.error.name !== "NonRetryableError" });
    assert.deepEqual(r, { redriven: 2, kept: 2 });
    await waitFor("redriven messages handled", () => handled.length === 2, timeoutMs);
    assert.deepEqual(handled.sort(), [0, 2]);
    assert.equal((await bus.deadLetters(dlq)).length, 2);
    // a second redrive finds what the filtered one put back (NATS once missed released dead letters)
    assert.deepEqual(await bus.redrive(dlq, { limit: 1 }), { redriven: 1, kept: 1 });
    await waitFor("the second redrive handled", () => handled.length === 3, timeoutMs);
    assert.equal((await bus.deadLetters(dlq)).length, 1);
  });

  it("an open circuit breaker pauses the subscription until its half-open probe", async () => {
    const bus = await open();
    const topic = uniqueName("breaker");
    let healthy = false;
    const calls: number[] = [];
    const openedAt = 0;
    const sub = await bus.subscribe(
      topic,
      {
        group: "g",
        retry: retry.fixed({ attempts: 50, delayMs: 20 }),
        circuitBreaker: { failureThreshold: 3, openMs: 600 },
      },
      () => {
        calls.push(Date.now());
        if (!healthy) throw new Error("down");
      },
    );
    for (let i = 0; i < 3; i++) await bus.publish(topic, i);
    await waitFor("the breaker to open", () => sub.circuit === "open", timeoutMs);
    const callsWhenOpened = calls.length;
    healthy = true;
    await waitFor("all three handled", () => sub.stats.processed === 3, timeoutMs);
    const resumed = calls[callsWhenOpened] ?? 0;
    assert.ok(resumed - openedAt >= 595, `no handler call while open (first after ${resumed - openedAt} ms)`);
    assert.equal(sub.circuit, "closed");
  });

  it("a rate limit keeps handler starts at most 4 per 400 ms window", async () => {
    const bus = await open();
    const topic = uniqueName("rate");
    const starts: number[] = [];
    await bus.subscribe(
      topic,
      { group: "g", concurrency: 8, rateLimit: { kind: "sliding-window", limit: 4, windowMs: 400 } },
      () => {
        starts.push(Date.now());
      },
    );
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) await bus.publish(topic, i);
    await waitFor("10 handled", () => starts.length === 10, timeoutMs);
    // a start can be late but never early: the i-th is granted no sooner than ⌊i/4⌋ windows after t0
    starts.forEach((at, i) => {
      const least = Math.floor(i / 4) * 400;
      assert.ok(at - t0 >= least - 5, `start ${i} after ${at - t0} ms, before ${least} ms`);
    });
  });

  it("the inbox suppresses duplicates: the same id published twice is handled once", async () => {
    const bus = await open();
    const topic = uniqueName("dup");
    const inbox = new MemoryInbox();
    let effects = 0;
    await bus.subscribe(topic, { group: "g", idempotent: inbox }, () => {
      effects++;
    });
    await bus.publish(topic, { n: 1 }, { id: "order-1" });
    await bus.publish(topic, { n: 1 }, { id: "order-1" });
    await bus.publish(topic, { n: 2 }, { id: "order-2" });
    await waitFor("two effects", () => effects === 2, timeoutMs);
    await delay(300);
    assert.equal(effects, 2);
  });

  it("a consumer whose connection dies after its handler committed: the redelivery is skipped by the inbox", async () => {
    const [a, b] = [await open({ onError: () => {} }), await open()];
    const topic = uniqueName("kill");
    const inbox = new MemoryInbox();
    let effects = 0;
    let killed = false;
    await a.subscribe(topic, { group: "g", idempotent: inbox, retry: false }, async () => {
      effects++;
      killed = true;
      await (h.crash ?? ((bus: Bus) => bus.transport.close()))(a); // dies before its ack
    });
    await b.publish(topic, "x", { id: uniqueName("msg") }); // b: a's own publish might die with it
    await waitFor("a's handler to run and die", () => killed, timeoutMs);
    const seenByB: string[] = [];
    const subB = await b.subscribe(topic, { group: "g", idempotent: inbox }, (m) => {
      seenByB.push(m.id);
      effects++;
    });
    await waitFor("the redelivery to reach b", () => subB.stats.duplicates === 1, timeoutMs);
    assert.equal(effects, 1, "the redelivered copy was not handled again");
    assert.deepEqual(seenByB, []);
  });

  it("a consumer killed mid-handler (before it committed): another consumer of the group handles it", async () => {
    const [a, b] = [await open({ onError: () => {} }), await open()];
    const topic = uniqueName("kill-early");
    const inbox = new MemoryInbox();
    let killed = false;
    await a.subscribe(topic, { group: "g", idempotent: inbox, retry: false }, async () => {
      killed = true;
      await (h.crash ?? ((bus: Bus) => bus.transport.close()))(a);
      throw new Error("the process died here"); // its transaction never commits
    });
    const id = uniqueName("msg");
    await b.publish(topic, "x", { id });
    await waitFor("a's handler to run and die", () => killed, timeoutMs);
    const seenByB: string[] = [];
    await b.subscribe(topic, { group: "g", idempotent: inbox }, (m) => {
      seenByB.push(m.id);
    });
    await waitFor("b to handle the redelivery", () => seenByB.length === 1, timeoutMs);
    assert.deepEqual(seenByB, [id]);
  });

  it("request/reply: the responder's return value comes back; no responder times out", async () => {
    const [client, server] = [await open(), await open()];
    const topic = uniqueName("rpc");
    await server.subscribe(topic, { group: "responders" }, (m) => ({ doubled: (m.data as number) * 2 }));
    const reply = await client.request(topic, 21, { timeoutMs });
    assert.deepEqual(reply.data, { doubled: 42 });
    await assert.rejects(client.request(uniqueName("nobody"), 1, { timeoutMs: 300 }), /no reply/);
  });

  it("reconnects after the broker restarts and keeps consuming", {
    skip: h.restart === undefined,
  }, async () => {
    const statuses: string[] = [];
    const bus = await open({ onStatus: (s) => statuses.push(s) });
    const topic = uniqueName("restart");
    const got: number[] = [];
    await bus.subscribe(topic, { group: "g" }, (m) => {
      got.push(m.data as number);
    });
    await bus.publish(topic, 1);
    await waitFor("the first message", () => got.length === 1, timeoutMs);
    await h.restart?.();
    await bus.publish(topic, 2);
    await waitFor("a message published after the restart", () => got.includes(2), timeoutMs * 3);
    if (bus.transport.onStatus !== undefined) {
      assert.deepEqual(
        statuses.slice(0, 2),
        ["reconnecting", "connected"],
        "the bus heard the drop and the reconnect",
      );
    }
  });
}
