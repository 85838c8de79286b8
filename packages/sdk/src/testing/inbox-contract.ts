// The inbox store suite: the same assertions against every InboxStore (memory, SQLite, PostgreSQL).
// Invariant: nothing here depends on which store runs it; durability and transactions are declared by
// the harness.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { InboxStore } from "../pipeline/inbox.ts";

export interface InboxHarness {
  open(): Promise<InboxStore>;
  /** For transactional stores: a write through the handler's `tx`, and how many such writes committed. */
  readonly transactional?: {
    write(tx: unknown, value: string): Promise<void>;
    count(): Promise<number>;
  };
  /** Whether a newly opened store sees the marks of an earlier one (durable stores). */
  readonly durable: boolean;
}

let seq = 0;
const unique = (): string => `c${process.pid}-${Date.now()}-${seq++}`;

export function inboxStoreContract(name: string, h: InboxHarness): void {
  describe(`inbox store contract: ${name}`, () => {
    it("runs a message once; the same id again is a duplicate and does not run", async () => {
      const store = await h.open();
      const consumer = unique();
      let runs = 0;
      assert.equal(await store.once(consumer, "m1", async () => void runs++), true);
      assert.equal(await store.once(consumer, "m1", async () => void runs++), false);
      assert.equal(await store.once(consumer, "m2", async () => void runs++), true);
      assert.equal(await store.once(`${consumer}-other-group`, "m1", async () => void runs++), true);
      assert.equal(runs, 3);
      await store.close();
    });

    it("a failed run leaves no mark: the next delivery runs again", async () => {
      const store = await h.open();
      const consumer = unique();
      await assert.rejects(
        store.once(consumer, "m", async () => {
          throw new Error("handler failed");
        }),
        /handler failed/,
      );
      let ran = false;
      const run = async (): Promise<void> => {
        ran = true;
      };
      assert.equal(await store.once(consumer, "m", run), true);
      assert.equal(ran, true);
      await store.close();
    });

    it("two deliveries of one id at once: one runs, the other waits and is a duplicate", async () => {
      const store = await h.open();
      const consumer = unique();
      let runs = 0;
      const slow = async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 50));
      };
      const results = await Promise.all([store.once(consumer, "m", slow), store.once(consumer, "m", slow)]);
      assert.deepEqual(results.sort(), [false, true]);
      assert.equal(runs, 1);
      await store.close();
    });

    if (h.durable) {
      it("marks survive closing and reopening the store", async () => {
        const consumer = unique();
        const a = await h.open();
        await a.once(consumer, "m", async () => {});
        await a.close();
        const b = await h.open();
        assert.equal(await b.once(consumer, "m", async () => assert.fail("ran twice")), false);
        await b.close();
      });
    }

    const tx = h.transactional;
    if (tx !== undefined) {
      it("the handler's writes through tx commit with the mark, or roll back with it", async () => {
        const store = await h.open();
        const consumer = unique();
        const before = await tx.count();
        await assert.rejects(
          store.once(consumer, "m", async (t) => {
            await tx.write(t, "written then failed");
            throw new Error("after the write");
          }),
        );
        assert.equal(await tx.count(), before, "the failed run's write rolled back");
        assert.equal(await store.once(consumer, "m", (t) => tx.write(t, "ok")), true);
        assert.equal(await store.once(consumer, "m", (t) => tx.write(t, "dup")), false);
        assert.equal(await tx.count(), before + 1);
        await store.close();
      });
    }

    it("purge forgets marks older than a time", async () => {
      const store = await h.open();
      const consumer = unique();
      await store.once(consumer, "old", async () => {});
      const removed = await store.purge(Date.now() + 60_000);
      assert.ok(removed >= 1);
      assert.equal(await store.once(consumer, "old", async () => {}), true);
      await store.close();
    });
  });
}
