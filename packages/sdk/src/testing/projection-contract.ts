// The projection suite: a balances read model projected from account events, against every projection
// store (memory, SQLite, PostgreSQL) over the event store of the same kind. Invariant: nothing here
// depends on the database; the harness supplies the read model's three operations.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { EventStore, StoredEvent } from "../eventsourcing/event-store.ts";
import type { Projection, ProjectionStore } from "../projections/projection.ts";
import { Projector } from "../projections/projector.ts";
import { uniqueName, waitForAsync } from "./wait.ts";

/** The read model under test: one balance per account. */
export interface BalanceModel<Tx> {
  add(tx: Tx, account: string, amount: number): Promise<void>;
  reset(tx: Tx): Promise<void>;
  balances(): Promise<Record<string, number>>;
}

export interface ProjectionHarness<Tx> {
  /** A fresh event store, projection store and (empty) read model. */
  open(): Promise<{ events: EventStore<never>; store: ProjectionStore<Tx>; model: BalanceModel<Tx> }>;
  /** Whether a failed batch's read-model writes roll back (not the memory store). */
  readonly transactional: boolean;
  readonly timeoutMs?: number;
}

const deposit = (amount: number) => ({ type: "AccountDeposited", data: { amount, currency: "EUR" } });
const withdraw = (amount: number) => ({ type: "AccountWithdrawn", data: { amount } });

function balances<Tx>(model: BalanceModel<Tx>, failOn?: (e: StoredEvent) => boolean): Projection<Tx> {
  return {
    name: uniqueName("balances"),
    eventTypes: ["AccountDeposited", "AccountWithdrawn"],
    apply: async (e, tx) => {
      const amount = (e.data as { amount: number }).amount;
      await model.add(tx, e.streamId, e.type === "AccountDeposited" ? amount : -amount);
      if (failOn?.(e)) throw new Error(`projection failed at ${e.streamId} v${e.version}`);
    },
    reset: (tx) => model.reset(tx),
  };
}

export function projectionContract<Tx>(name: string, h: ProjectionHarness<Tx>): void {
  const timeoutMs = h.timeoutMs ?? 15_000;
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  });
  const open = async () => {
    const o = await h.open();
    closers.push(
      () => o.store.close(),
      () => o.events.close(),
    );
    return o;
  };
  const start = async <T>(p: Projector<T>): Promise<Projector<T>> => {
    closers.push(() => p.close());
    await p.start();
    return p;
  };
  const settled = async (model: BalanceModel<Tx>, want: Record<string, number>): Promise<void> => {
    let last: Record<string, number> = {};
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      last = await model.balances();
      if (JSON.stringify(last) === JSON.stringify(want) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(last, want);
  };

  // PostgreSQL's global order shows an append only once every older write transaction on the server has
  // ended (another test's, another client's): wait, bounded, until the store's first `n` events are in it.
  const visible = (events: EventStore<never>, n: number) =>
    waitForAsync(
      `${n} events in the global order`,
      async () => (await events.readAll()).length >= n,
      timeoutMs,
    );

  describe(`projection contract: ${name}`, () => {
    it("catches up from the beginning, follows live events, and stores its checkpoint", async () => {
      const { events, store, model } = await open();
      await events.append("a1", [{ type: "AccountOpened", data: { owner: "ann" } }, deposit(10), deposit(5)]);
      await events.append("a2", [deposit(7)]);
      await visible(events, 4);
      const p = await start(new Projector(events, balances(model), store, { batchSize: 2 }));
      await p.caughtUp;
      assert.deepEqual(await model.balances(), { a1: 15, a2: 7 });
      await events.append("a1", [withdraw(3)]);
      await settled(model, { a1: 12, a2: 7 });
      const [last] = (await events.readAll()).slice(-1);
      for (let i = 0; i < 100 && (await store.loadCheckpoint(p.projection.name)) !== last?.checkpoint; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(await store.loadCheckpoint(p.projection.name), last?.checkpoint);
    });

    it("restarts from its checkpoint: nothing is applied twice", async () => {
      const { events, store, model } = await open();
      await events.append("a1", [deposit(1), deposit(2)]);
      await visible(events, 2);
      const projection = balances(model);
      const first = await start(new Projector(events, projection, store));
      await first.caughtUp;
      await first.close();
      await events.append("a1", [deposit(4)]);
      await visible(events, 3);
      const second = await start(new Projector(events, projection, store));
      await second.caughtUp;
      assert.deepEqual(await model.balances(), { a1: 7 });
    });

    if (h.transactional) {
      it("a failing batch rolls back its read-model writes with its checkpoint and is applied once later", async () => {
        const { events, store, model } = await open();
        await events.append("a1", [deposit(1), deposit(2), deposit(4), deposit(8)]);
        await visible(events, 4);
        let failures = 1;
        const errors: unknown[] = [];
        const p = await start(
          new Projector(
            events,
            balances(model, (e) => e.version === 3 && failures-- > 0),
            store,
            { onError: (e) => errors.push(e) },
          ),
        );
        await p.caughtUp;
        assert.equal(errors.length, 1);
        assert.deepEqual(await model.balances(), { a1: 15 });
      });
    }

    it("rebuilds from the beginning", async () => {
      const { events, store, model } = await open();
      await events.append("a1", [deposit(3), withdraw(1)]);
      await visible(events, 2);
      const p = await start(new Projector(events, balances(model), store));
      await p.caughtUp;
      await store.transaction((tx) => model.add(tx, "a1", 1000)); // a read model gone wrong
      assert.deepEqual(await model.balances(), { a1: 1002 });
      await p.rebuild();
      await p.caughtUp;
      assert.deepEqual(await model.balances(), { a1: 2 });
    });

    it("reports its lag: events behind and how long the oldest has waited", async () => {
      const { events, store, model } = await open();
      const p = new Projector(events, balances(model), store);
      closers.push(() => p.close());
      assert.deepEqual(await p.lag(), { events: 0, ms: 0 });
      await events.append("a1", [deposit(1), deposit(1), deposit(1), deposit(1)]);
      await visible(events, 4);
      await new Promise((r) => setTimeout(r, 150));
      const behind = await p.lag();
      assert.equal(behind.events, 4);
      assert.ok(behind.ms >= 100, `oldest waited ${behind.ms} ms`);
      await p.start();
      await p.caughtUp;
      assert.deepEqual(await p.lag(), { events: 0, ms: 0 });
    });
  });
}
