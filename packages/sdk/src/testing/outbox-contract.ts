// The outbox store suite: the same assertions against every outbox (PostgreSQL, SQLite), each relaying
// through a memory:// bus. Invariant: nothing here depends on the database; the harness says how to run
// the application's transaction and how to count what is left in the table.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Bus } from "../bus.ts";
import type { Message } from "../envelope/envelope.ts";
import { connect } from "../index.ts";
import type { OutboxLayout, OutboxMessage } from "../outbox/outbox.ts";
import type { OutboxRelay, Publisher, RelayOptions } from "../outbox/relay.ts";
import { uniqueName, waitFor } from "./wait.ts";

/** The application's transaction as a test drives it. */
export interface OutboxTx {
  add(message: OutboxMessage): Promise<string>;
  /** A write of the application's own (an order row), in the same transaction. */
  write(value: string): Promise<void>;
}

export interface OutboxUnderTest {
  /** Runs `fn` in one transaction of the application's database: committed unless `fn` throws. */
  transaction(fn: (tx: OutboxTx) => Promise<unknown>): Promise<void>;
  relay(bus: Publisher, options?: RelayOptions): OutboxRelay;
  /** Rows in the outbox table, sent (kept) or not. */
  rows(): Promise<number>;
  /** The application's committed writes. */
  writes(): Promise<string[]>;
  columns(): Promise<string[]>;
}

export interface OutboxHarness {
  /** A new outbox on a table of its own. */
  open(layout?: OutboxLayout): Promise<OutboxUnderTest>;
  readonly timeoutMs?: number;
}

const quiet = { onError: () => {} };

async function eventually(what: string, cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function outboxStoreContract(name: string, h: OutboxHarness): void {
  const timeoutMs = h.timeoutMs ?? 15_000;
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  });
  const bus = async (): Promise<Bus> => {
    const b = await connect(`memory://${uniqueName("outbox")}`);
    closers.push(() => b.close());
    return b;
  };
  const relay = (o: OutboxUnderTest, publisher: Publisher, options: RelayOptions = {}): OutboxRelay => {
    const r = o.relay(publisher, options);
    closers.push(() => r.close());
    return r;
  };
  const collect = async (b: Bus, topic: string): Promise<Message[]> => {
    const got: Message[] = [];
    await b.subscribe(topic, { group: "g" }, (m) => {
      got.push(m);
    });
    return got;
  };

  describe(`outbox store contract: ${name}`, () => {
    it("a committed add is published once, with the row id as the message id, then deleted", async () => {
      const o = await h.open();
      const b = await bus();
      const got = await collect(b, "orders");
      let id = "";
      await o.transaction(async (tx) => {
        await tx.write("order-1");
        id = await tx.add({
          topic: "orders",
          key: "order-1",
          type: "OrderCreated",
          data: { orderId: 1, total: 9.5 },
          headers: { tenant: "t1" },
          subject: "order/1",
          correlationId: "corr-1",
          causationId: "cause-1",
        });
      });
      const r = relay(o, b);
      await waitFor("the message", () => got.length === 1, timeoutMs);
      const m = got[0] as Message;
      assert.equal(m.id, id);
      assert.deepEqual(m.data, { orderId: 1, total: 9.5 });
      assert.equal(m.key, "order-1");
      assert.equal(m.type, "OrderCreated");
      assert.equal(m.subject, "order/1");
      assert.deepEqual(m.headers, { tenant: "t1" });
      assert.equal(m.correlationId, "corr-1");
      assert.equal(m.causationId, "cause-1");
      await eventually("the row deleted", async () => (await o.rows()) === 0, timeoutMs);
      assert.equal(got.length, 1);
      assert.deepEqual(await o.writes(), ["order-1"]);
      assert.equal((await r.metrics()).published, 1);
    });

    it("a rolled-back transaction leaves neither the application's write nor a message", async () => {
      const o = await h.open();
      const b = await bus();
      const got = await collect(b, "orders");
      relay(o, b);
      await assert.rejects(
        o.transaction(async (tx) => {
          await tx.write("lost");
          await tx.add({ topic: "orders", data: "rolled back" });
          throw new Error("the application failed");
        }),
        /the application failed/,
      );
      await o.transaction(async (tx) => {
        await tx.add({ topic: "orders", data: "committed" });
      });
      await waitFor("the committed message", () => got.length === 1, timeoutMs);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(
        got.map((m) => m.data),
        ["committed"],
      );
      assert.deepEqual(await o.writes(), []);
    });

    it("the relay wakes when a transaction commits, not when its poll interval ends", async () => {
      const o = await h.open();
      const b = await bus();
      const got = await collect(b, "wake");
      relay(o, b, { pollMs: 600_000 });
      // a first message (found by the relay's first look or a wake) shows it is up; then it sleeps
      await o.transaction((tx) => tx.add({ topic: "wake", data: 0 }));
      await waitFor("the first message", () => got.length === 1, timeoutMs);
      await new Promise((res) => setTimeout(res, 300));
      const start = Date.now();
      await o.transaction((tx) => tx.add({ topic: "wake", data: 1 }));
      await waitFor("the message", () => got.length === 2, timeoutMs);
      assert.ok(Date.now() - start < timeoutMs, "published long before the 10-minute poll");
    });

    it("several relays at once: every row once, each key's rows in order", async () => {
      const o = await h.open();
      const b = await bus();
      const got = await collect(b, "ordered");
      // a publish that takes a moment widens the window in which relays overlap
      const slow: Publisher = {
        publish: async (t, d, opts) => {
          await new Promise((res) => setTimeout(res, Math.random() * 3));
          return b.publish(t, d, opts);
        },
      };
      const keys = 8;
      const perKey = 12;
      const add = (n: number) =>
        o.transaction(async (tx) => {
          for (let k = 0; k < keys; k++) await tx.add({ topic: "ordered", key: `k${k}`, data: { k, n } });
        });
      // half before the relays start (their first batches overlap on every key), half while they run
      for (let n = 0; n < perKey / 2; n++) await add(n);
      const relays = [0, 1, 2].map(() => relay(o, slow, { batchSize: 7, pollMs: 200 }));
      for (let n = perKey / 2; n < perKey; n++) await add(n);
      await waitFor("every row", () => got.length >= keys * perKey, timeoutMs * 2);
      const counted = async () =>
        (await Promise.all(relays.map((r) => r.metrics()))).every((m) => m.pending === 0);
      await eventually("the rows marked", counted, timeoutMs);
      assert.equal(got.length, keys * perKey, "no duplicates without a crash");
      const last = new Map<number, number>();
      for (const m of got) {
        const { k, n } = m.data as { k: number; n: number };
        assert.equal(n, (last.get(k) ?? -1) + 1, `key k${k}: ${n} after ${last.get(k)}`);
        last.set(k, n);
      }
      const published = await Promise.all(relays.map(async (r) => (await r.metrics()).published));
      assert.equal(
        published.reduce((a, n) => a + n, 0),
        keys * perKey,
      );
    });

    it("a failed publish leaves its row (and its key's later rows) pending; they go out in order later", async () => {
      const o = await h.open();
      const b = await bus();
      const got = await collect(b, "flaky");
      let failures = 2;
      const flaky: Publisher = {
        publish: async (t, d, opts) => {
          if (failures > 0) {
            failures--;
            throw new Error("broker unavailable");
          }
          return b.publish(t, d, opts);
        },
      };
      await o.transaction(async (tx) => {
        for (let n = 0; n < 3; n++) await tx.add({ topic: "flaky", key: "k", data: n });
      });
      const errors: unknown[] = [];
      relay(o, flaky, { onError: (e) => errors.push(e) });
      await waitFor("all three", () => got.length === 3, timeoutMs);
      assert.deepEqual(
        got.map((m) => m.data),
        [0, 1, 2],
      );
      assert.equal(errors.length, 2);
    });

    it("sent rows are kept for retentionMs, then deleted", async () => {
      const o = await h.open();
      const b = await bus();
      const got = await collect(b, "kept");
      relay(o, b, { retentionMs: 1_000 });
      await o.transaction(async (tx) => {
        await tx.add({ topic: "kept", data: 1 });
      });
      await waitFor("the message", () => got.length === 1, timeoutMs);
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(await o.rows(), 1, "kept after sending");
      await eventually("deleted after the retention time", async () => (await o.rows()) === 0, timeoutMs);
      assert.equal(got.length, 1, "a kept row is not sent again");
    });

    it("metrics: rows pending, age of the oldest, publish rate", async () => {
      const o = await h.open();
      const b = await bus();
      const got = await collect(b, "metered");
      const down = relay(o, { publish: () => Promise.reject(new Error("down")) }, quiet);
      await o.transaction(async (tx) => {
        for (let n = 0; n < 5; n++) await tx.add({ topic: "metered", data: n });
      });
      await new Promise((res) => setTimeout(res, 250));
      const stuck = await down.metrics();
      assert.equal(stuck.pending, 5);
      assert.ok(stuck.oldestAgeMs >= 200, `oldest ${stuck.oldestAgeMs} ms`);
      assert.equal(stuck.published, 0);
      assert.equal(stuck.publishRatePerSec, 0);
      await down.close();
      const up = relay(o, b, { rateWindowMs: 60_000 });
      await waitFor("all five", () => got.length === 5, timeoutMs);
      // the relay marks the rows after the broker confirmed them: a subscriber can be quicker
      await eventually("the rows marked", async () => (await up.metrics()).pending === 0, timeoutMs);
      const m = await up.metrics();
      assert.equal(m.pending, 0);
      assert.equal(m.oldestAgeMs, 0);
      assert.equal(m.published, 5);
      assert.equal(m.publishRatePerSec, 5 / 60);
    });

    it("the Debezium layout: id, aggregatetype, aggregateid, type, payload; topic and key from them", async () => {
      const o = await h.open("debezium");
      const cols = await o.columns();
      for (const c of ["id", "aggregatetype", "aggregateid", "type", "payload"]) {
        assert.ok(cols.includes(c), `column ${c} in ${cols.join(", ")}`);
      }
      const b = await bus();
      const got = await collect(b, "Order");
      relay(o, b);
      let id = "";
      await o.transaction(async (tx) => {
        id = await tx.add({ topic: "Order", key: "order-7", type: "OrderCreated", data: { id: 7 } });
      });
      await waitFor("the message", () => got.length === 1, timeoutMs);
      assert.equal(got[0]?.id, id);
      assert.equal(got[0]?.key, "order-7");
      assert.equal(got[0]?.type, "OrderCreated");
      await assert.rejects(
        o.transaction((tx) => tx.add({ topic: "Order", data: 1 })),
        /aggregateid/,
      );
      await assert.rejects(
        o.transaction((tx) => tx.add({ topic: "Order", key: "k", id: "not-a-uuid", data: 1 })),
        /UUID/,
      );
    });

    it("a bad message is refused at add, naming the field", async () => {
      const o = await h.open();
      await assert.rejects(
        o.transaction((tx) => tx.add({ topic: "", data: 1 })),
        /message\.topic/,
      );
      await assert.rejects(
        o.transaction((tx) => tx.add({ topic: "t", data: undefined })),
        /JSON-serializable/,
      );
      assert.equal(await o.rows(), 0);
    });
  });
}
