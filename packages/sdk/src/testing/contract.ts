// The transport contract suite: the same assertions run against every transport (memory here; embedded,
// AMQP, Kafka and NATS in their adapters' tests, on real servers). Invariant: nothing here depends on
// which transport runs it; what a transport cannot do, it declares in the harness.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Bus, ConnectOptions } from "../bus.ts";
import type { Message } from "../envelope/envelope.ts";
import { patternCases } from "./contract-patterns.ts";
import { uniqueName, waitFor } from "./wait.ts";

export interface ContractHarness {
  /** A bus on the transport under test; every call may return a new connection to the same broker. */
  connect(options?: ConnectOptions): Promise<Bus>;
  /** Restarts the broker (the reconnect test is skipped without it). */
  restart?(): Promise<void>;
  /**
   * Kills a consumer's connection abruptly (a process dying): its unacknowledged deliveries must go back
   * to the group. Default: `bus.transport.close()`, bypassing the bus's drain.
   */
  crash?(bus: Bus): Promise<void>;
  /** Generous deadline for one expectation, in ms (default 10 s). */
  readonly timeoutMs?: number;
}

export function transportContract(name: string, harness: ContractHarness): void {
  const timeoutMs = harness.timeoutMs ?? 10_000;
  const buses: Bus[] = [];
  const open = async (options?: ConnectOptions): Promise<Bus> => {
    const bus = await harness.connect(options);
    buses.push(bus);
    return bus;
  };
  after(async () => {
    await Promise.all(buses.map((b) => b.close().catch(() => {})));
  });

  describe(`transport contract: ${name}`, () => {
    it("pub/sub: every group gets its own copy, with the envelope intact", async () => {
      const bus = await open();
      const topic = uniqueName("fanout");
      const got: Record<string, Message[]> = { a: [], b: [] };
      for (const g of ["a", "b"] as const) {
        await bus.subscribe(topic, { group: g }, (m) => {
          got[g]?.push(m);
        });
      }
      const id = await bus.publish(
        topic,
        { orderId: 1 },
        { key: "customer-7", type: "OrderCreated", headers: { tenant: "t1" }, subject: "order/1" },
      );
      await waitFor("both groups", () => got.a?.length === 1 && got.b?.length === 1, timeoutMs);
      for (const m of [got.a?.[0], got.b?.[0]]) {
        assert.ok(m);
        assert.deepEqual(m.data, { orderId: 1 });
        assert.equal(m.id, id);
        assert.equal(m.key, "customer-7");
        assert.equal(m.type, "OrderCreated");
        assert.equal(m.subject, "order/1");
        assert.equal(m.headers.tenant, "t1");
        assert.equal(m.attempt, 1);
        assert.equal(m.correlationId, id);
        assert.equal(m.attributes.datacontenttype, "application/json");
      }
    });

    it("competing consumers: a group's messages are shared, each handled once", async () => {
      const [b1, b2] = [await open(), await open()];
      const topic = uniqueName("compete");
      const seen = new Map<number, string[]>();
      const handler = (who: string) => async (m: Message<number>) => {
        seen.set(m.data, [...(seen.get(m.data) ?? []), who]);
        await new Promise((r) => setTimeout(r, 2));
      };
      await b1.subscribe(topic, { group: "workers" }, handler("one"));
      await b2.subscribe(topic, { group: "workers" }, handler("two"));
      for (let i = 0; i < 40; i++) await b1.publish(topic, i);
      await waitFor("40 messages", () => seen.size === 40, timeoutMs);
      await new Promise((r) => setTimeout(r, 100));
      for (const [i, who] of seen) assert.equal(who.length, 1, `message ${i} handled by ${who.join(", ")}`);
      const byOne = [...seen.values()].filter((w) => w[0] === "one").length;
      assert.ok(byOne > 0 && byOne < 40, `both consumers took work (one took ${byOne} of 40)`);
    });

    it("a Buffer body round-trips as application/octet-stream", async () => {
      const bus = await open();
      const topic = uniqueName("buffer");
      const got: Message[] = [];
      await bus.subscribe(topic, { group: "g" }, (m) => {
        got.push(m);
      });
      await bus.publish(topic, Buffer.from([0, 1, 2, 255]));
      await waitFor("the buffer", () => got.length === 1, timeoutMs);
      assert.deepEqual(got[0]?.data, Buffer.from([0, 1, 2, 255]));
      assert.equal(got[0]?.attributes.datacontenttype, "application/octet-stream");
    });

    patternCases(harness, open, timeoutMs);
  });
}
