// Checks of an SDK transport adapter below the Bus, run by each adapter's tests against its real server:
// delayed copies to one group, release, dead-letter queues' browse and take. Invariant: every check uses
// fresh unique names, so adapters and runs share servers without seeing each other's messages.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { uniqueName, waitFor } from "../../packages/sdk/src/testing/wait.ts";
import type { Delivery, Transport, TransportMessage } from "../../packages/sdk/src/transports/transport.ts";

export function testMessage(id: string, body = id): TransportMessage {
  const attributes = { specversion: "1.0", id, source: "test", type: "t", extensions: {} } as const;
  return { attributes, headers: { h: "v" }, body: Buffer.from(body) };
}

const ids = (ms: TransportMessage[]) => ms.map((m) => m.attributes.id);

export function transportChecks(name: string, transport: () => Promise<Transport>, timeoutMs = 15_000): void {
  describe(`${name} adapter`, () => {
    test("a delayed copy reaches only its group, no sooner than its delay; a shorter one is not held up", async () => {
      const t = await transport();
      const topic = uniqueName("delay");
      const got: Record<string, { id: string; at: number }[]> = { a: [], b: [] };
      for (const g of ["a", "b"] as const) {
        await t.subscribe(topic, { group: g, prefetch: 10 }, (d) => {
          got[g]?.push({ id: d.message.attributes.id, at: Date.now() });
          void d.ack();
        });
      }
      const start = Date.now();
      await t.publish(topic, testMessage("late"), { group: "a", delayMs: 1500 });
      await t.publish(topic, testMessage("soon"), { group: "a", delayMs: 300 });
      await waitFor("both copies", () => got.a?.length === 2, timeoutMs);
      const [first, second] = got.a ?? [];
      assert.equal(first?.id, "soon");
      assert.ok((first?.at ?? 0) - start >= 300, `soon after ${(first?.at ?? 0) - start} ms`);
      assert.equal(second?.id, "late");
      assert.ok((second?.at ?? 0) - start >= 1500, `late after ${(second?.at ?? 0) - start} ms`);
      assert.equal(got.b?.length, 0, "the other group got no copy");
    });

    test("release gives a delivery back: it comes again, counted as redelivered", async () => {
      const t = await transport();
      const topic = uniqueName("release");
      const seen: Delivery[] = [];
      await t.subscribe(topic, { group: "g", prefetch: 1 }, (d) => {
        seen.push(d);
        void (seen.length === 1 ? d.release() : d.ack());
      });
      await t.publish(topic, testMessage("m1"));
      await waitFor("the redelivery", () => seen.length === 2, timeoutMs);
      assert.equal(seen[1]?.message.attributes.id, "m1");
      assert.equal(seen[0]?.redeliveries ?? 0, 0);
      assert.equal(seen[1]?.message.headers.h, "v");
    });

    test("a queue: browse removes nothing, take leases until ack or release", async () => {
      const t = await transport();
      const queue = uniqueName("dlq");
      for (const id of ["d1", "d2", "d3"]) await t.send(queue, testMessage(id));
      assert.deepEqual(ids(await t.browse(queue, 2)), ["d1", "d2"]);
      assert.deepEqual(ids(await t.browse(queue, 10)), ["d1", "d2", "d3"]);
      const taken = await t.take(queue, 2);
      assert.deepEqual(ids(taken.map((x) => x.message)), ["d1", "d2"]);
      await taken[0]?.ack();
      await taken[1]?.release();
      assert.deepEqual(ids(await t.browse(queue, 10)), ["d2", "d3"]);
      // a released message can be taken again (a second redrive finds it)
      const again = await t.take(queue, 10);
      assert.deepEqual(ids(again.map((x) => x.message)).sort(), ["d2", "d3"]);
      for (const x of again) await x.ack();
      assert.deepEqual(await t.take(uniqueName("empty"), 5), []);
    });
  });
}
