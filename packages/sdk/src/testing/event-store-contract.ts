// The event store suite: the same assertions against every EventStore (memory, SQLite, PostgreSQL) —
// versions and expected versions, global order and checkpoints, subscriptions, snapshots, upcasting, the
// command handler's retries — and, where the harness has transactions and an outbox, appends that
// commit or roll back with the application's writes and reach a bus through the outbox.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Bus } from "../bus.ts";
import type { Message } from "../envelope/envelope.ts";
import { ConflictError } from "../errors.ts";
import { commandHandler } from "../eventsourcing/command-handler.ts";
import type { EventStore, StoredEvent } from "../eventsourcing/event-store.ts";
import type { Upcasters } from "../eventsourcing/upcasters.ts";
import { connect } from "../index.ts";
import type { OutboxRelay } from "../outbox/relay.ts";
import { accountDecider, accountUpcasters } from "./account-decider.ts";
import { uniqueName, waitFor, waitForAsync } from "./wait.ts";

export interface EventStoreHarness<Tx> {
  /** A store on tables (or memory) of its own. */
  open(options?: { upcasters?: Upcasters }): Promise<EventStore<Tx>>;
  /** Stores that join the application's transactions: run `fn` in one, committed unless it throws. */
  readonly transactions?: {
    /** A store whose appends also go to an outbox with topic `topic`, and a relay for it. */
    open(topic: string): Promise<{ store: EventStore<Tx>; relay(bus: Bus): OutboxRelay }>;
    run(store: EventStore<Tx>, fn: (tx: Tx) => Promise<void>): Promise<void>;
  };
  readonly timeoutMs?: number;
}

const stream = (): string => uniqueName("stream");
const ev = (type: string, data: unknown = {}) => ({ type, data });

export function eventStoreContract<Tx>(name: string, h: EventStoreHarness<Tx>): void {
  const timeoutMs = h.timeoutMs ?? 15_000;
  // The global order (readAll, countAfter, head) may lag an append: PostgreSQL shows only what every
  // transaction on the server older than it has settled (pg_snapshot_xmin), and another client's open
  // transaction holds it back. Wait, bounded, until `n` events of these streams are in it.
  const inGlobalOrder = (s: EventStore, streams: string[], n: number, after?: string) =>
    waitForAsync(
      `${n} events of ${streams.join(", ")} in the global order`,
      async () =>
        (await s.readAll(after === undefined ? {} : { after })).filter((e) => streams.includes(e.streamId))
          .length >= n,
      timeoutMs,
    );
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  });
  const open = async (o?: { upcasters?: Upcasters }): Promise<EventStore<Tx>> => {
    const s = await h.open(o);
    closers.push(() => s.close());
    return s;
  };

  describe(`event store contract: ${name}`, () => {
    it("appends get versions 1, 2, 3… and read back forwards with their data and metadata", async () => {
      const s = await open();
      const id = stream();
      const r1 = await s.append(id, [ev("A", { n: 1 }), ev("B", { n: 2 })], { expectedVersion: "no-stream" });
      assert.equal(r1.nextExpectedVersion, 2);
      const r2 = await s.append(id, [{ type: "C", data: [1, "x"], metadata: { user: "u1" } }], {
        expectedVersion: 2,
      });
      assert.equal(r2.nextExpectedVersion, 3);
      const read = await s.readStream(id);
      assert.deepEqual(
        read.map((e) => [e.version, e.type, e.data, e.streamId]),
        [
          [1, "A", { n: 1 }, id],
          [2, "B", { n: 2 }, id],
          [3, "C", [1, "x"], id],
        ],
      );
      assert.deepEqual(read[2]?.metadata, { user: "u1" });
      assert.deepEqual(
        read.map((e) => e.id),
        [...r1.events, ...r2.events].map((e) => e.id),
      );
      assert.ok((read[0]?.position ?? 0) < (read[1]?.position ?? 0));
      assert.equal(read[0]?.schemaVersion, 1);
      // whole milliseconds, as Date.now() (PostgreSQL keeps microseconds)
      assert.ok(Number.isInteger(read[0]?.createdMs), `createdMs ${read[0]?.createdMs} is whole ms`);
      assert.deepEqual(
        (await s.readStream(id, { fromVersion: 2, maxCount: 1 })).map((e) => e.type),
        ["B"],
      );
      assert.equal(await s.streamVersion(id), 3);
      assert.equal(await s.streamVersion(stream()), 0);
    });

    it("an append expecting another version fails with ConflictError and writes nothing", async () => {
      const s = await open();
      const id = stream();
      await s.append(id, [ev("A")]);
      const conflict = await s.append(id, [ev("X")], { expectedVersion: 0 }).catch((e: unknown) => e);
      assert.ok(conflict instanceof ConflictError, String(conflict));
      assert.equal(conflict.streamId, id);
      assert.equal(conflict.actual, 1);
      await assert.rejects(s.append(id, [ev("X")], { expectedVersion: 5 }), ConflictError);
      await assert.rejects(s.append(id, [ev("X")], { expectedVersion: "no-stream" }), ConflictError);
      await assert.rejects(s.append(stream(), [ev("X")], { expectedVersion: "exists" }), ConflictError);
      await s.append(id, [ev("B")], { expectedVersion: "exists" });
      await s.append(id, [ev("C")], { expectedVersion: "any" });
      await assert.rejects(s.append(id, [ev("X")], { expectedVersion: -1 }), /expectedVersion/);
      await assert.rejects(s.append(id, [{ type: "", data: 1 }]), /type/);
      assert.deepEqual(
        (await s.readStream(id)).map((e) => e.type),
        ["A", "B", "C"],
      );
    });

    it("of concurrent appends expecting the same version, one commits and the others conflict", async () => {
      const s = await open();
      const id = stream();
      await s.append(id, [ev("A")]);
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, (_, i) => s.append(id, [ev("B", { i })], { expectedVersion: 1 })),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      for (const r of results) {
        if (r.status === "rejected") assert.ok(r.reason instanceof ConflictError, String(r.reason));
      }
      assert.equal(await s.streamVersion(id), 2);
    });

    it("readAll: every stream in one global order, resumable from any event's checkpoint", async () => {
      const s = await open();
      const start = await s.head();
      const [a, b] = [stream(), stream()];
      for (let n = 0; n < 4; n++) {
        await s.append(a, [ev("A", { n })]);
        await s.append(b, [ev("B", { n }), ev("B", { n, second: true })]);
      }
      await inGlobalOrder(s, [a, b], 12, start);
      const all = (await s.readAll({ after: start })).filter((e) => e.streamId === a || e.streamId === b);
      assert.equal(all.length, 12);
      assert.deepEqual(
        all.slice(0, 3).map((e) => [e.streamId, e.version]),
        [
          [a, 1],
          [b, 1],
          [b, 2],
        ],
      );
      for (let i = 1; i < all.length; i++) {
        assert.ok((all[i - 1] as StoredEvent).position < (all[i] as StoredEvent).position);
      }
      const rest = await s.readAll({ after: all[4]?.checkpoint as string, limit: 3 });
      assert.deepEqual(
        rest.map((e) => e.id),
        all.slice(5, 8).map((e) => e.id),
      );
      assert.equal(await s.head(), all[11]?.checkpoint);
      await assert.rejects(s.readAll({ after: "not a checkpoint" }), /checkpoint/);
    });

    it("a subscription catches up, then receives new events live, in order, each until its handler succeeds", async () => {
      const s = await open();
      const from = await s.head();
      const id = stream();
      await s.append(id, [ev("E", 1), ev("E", 2), ev("E", 3)]);
      await inGlobalOrder(s, [id], 3, from);
      const seen: unknown[] = [];
      let failOnce = true;
      const errors: unknown[] = [];
      const sub = s.subscribe(
        async (e) => {
          if (e.streamId !== id) return;
          if (e.data === 2 && failOnce) {
            failOnce = false;
            throw new Error("projection hiccup");
          }
          seen.push(e.data);
        },
        { from, batchSize: 2, onError: (err) => errors.push(err) },
      );
      closers.push(() => sub.close());
      await sub.caughtUp;
      assert.deepEqual(seen, [1, 2, 3]);
      assert.equal(errors.length, 1);
      await s.append(id, [ev("E", 4)]);
      await s.append(id, [ev("E", 5)]);
      await waitFor("the live events", () => seen.length === 5, timeoutMs);
      assert.deepEqual(seen, [1, 2, 3, 4, 5]);
      const checkpoint = sub.checkpoint;
      await sub.close();
      const late: unknown[] = [];
      const fromEnd = s.subscribe((e) => void (e.streamId === id && late.push(e.data)), { from: "end" });
      closers.push(() => fromEnd.close());
      await fromEnd.caughtUp;
      const resumed: unknown[] = [];
      const again = s.subscribe((e) => void (e.streamId === id && resumed.push(e.data)), {
        from: checkpoint as string,
      });
      closers.push(() => again.close());
      await s.append(id, [ev("E", 6)]);
      await waitFor("the new event on both", () => late.length === 1 && resumed.length === 1, timeoutMs);
      assert.deepEqual(late, [6]);
      assert.deepEqual(resumed, [6]);
    });

    it("subscribeBatches retries a failing batch whole; countAfter counts what a reader has left", async () => {
      const s = await open();
      const from = await s.head();
      const id = stream();
      await s.append(id, [ev("E", 1), ev("E", 2), ev("E", 3), ev("E", 4), ev("E", 5)]);
      await inGlobalOrder(s, [id], 5, from);
      assert.equal(await s.countAfter(from), 5);
      const all = (await s.readAll({ after: from })).filter((e) => e.streamId === id);
      assert.equal(await s.countAfter(all[1]?.checkpoint), 3);
      assert.equal(await s.countAfter(await s.head()), 0);
      const batches: unknown[][] = [];
      let failOnce = true;
      const sub = s.subscribeBatches(
        async (events) => {
          if (failOnce) {
            failOnce = false;
            throw new Error("the read model's transaction failed");
          }
          batches.push(events.map((e) => e.data));
        },
        { from, batchSize: 3, onError: () => {} },
      );
      closers.push(() => sub.close());
      await sub.caughtUp;
      assert.deepEqual(batches, [
        [1, 2, 3],
        [4, 5],
      ]);
      assert.equal(sub.checkpoint, all[4]?.checkpoint);
    });

    it("snapshots: the newest is kept; one of another schema version is not used", async () => {
      const s = await open();
      const id = stream();
      assert.equal(await s.loadSnapshot(id), undefined);
      await s.saveSnapshot(id, { version: 4, state: { total: 4 } });
      await s.saveSnapshot(id, { version: 2, state: { total: 2 } });
      assert.deepEqual(await s.loadSnapshot(id), { version: 4, state: { total: 4 }, schemaVersion: 1 });
      assert.equal(await s.loadSnapshot(id, { schemaVersion: 2 }), undefined);
    });

    it("upcasters turn old event versions into the current one on read; new events get the current version", async () => {
      const s = await open({ upcasters: accountUpcasters() });
      const id = stream();
      await s.append(id, [{ type: "AccountDeposited", data: { amount: 5 }, schemaVersion: 1 }]);
      await s.append(id, [{ type: "AccountDeposited", data: { amount: 7, currency: "USD" } }]);
      const read = await s.readStream(id);
      assert.deepEqual(
        read.map((e) => [e.schemaVersion, e.data]),
        [
          [2, { amount: 5, currency: "EUR" }],
          [2, { amount: 7, currency: "USD" }],
        ],
      );
      await inGlobalOrder(s, [id], 2);
      const all = (await s.readAll()).filter((e) => e.streamId === id);
      assert.deepEqual(all[0]?.data, { amount: 5, currency: "EUR" });
    });

    it("the command handler decides on the current state and retries on ConflictError", async () => {
      const s = await open();
      const handle = commandHandler(s, accountDecider, { attempts: 50 });
      const id = stream();
      await handle(id, { type: "open", owner: "ann" });
      const results = await Promise.all(
        Array.from({ length: 8 }, () => handle(id, { type: "deposit", amount: 10 })),
      );
      assert.equal(Math.max(...results.map((r) => r.nextExpectedVersion)), 9);
      const r = await handle(id, { type: "withdraw", amount: 30 });
      assert.deepEqual(r.state, { open: true, owner: "ann", balance: 50 });
      await assert.rejects(handle(id, { type: "withdraw", amount: 51 }), /insufficient funds: 50/);
      await assert.rejects(handle(id, { type: "deposit", amount: 1 }, { expectedVersion: 3 }), ConflictError);
      const none = await handle(id, { type: "withdraw", amount: 0 });
      assert.equal(none.events.length, 0);
      assert.equal(await s.streamVersion(id), 10);
    });

    it("the command handler snapshots every N events and loads from the snapshot", async () => {
      const s = await open();
      const handle = commandHandler(s, accountDecider, { snapshotEvery: 3 });
      const id = stream();
      await handle(id, { type: "open", owner: "bo" });
      for (let i = 0; i < 6; i++) await handle(id, { type: "deposit", amount: 1 });
      const snap = await s.loadSnapshot<{ balance: number }>(id);
      assert.equal(snap?.version, 6);
      assert.equal(snap?.state.balance, 5);
      const r = await handle(id, { type: "deposit", amount: 1 });
      assert.equal(r.state.balance, 7);
      const rebuilt = commandHandler(s, accountDecider, { snapshotEvery: 3, snapshotVersion: 2 });
      assert.equal((await rebuilt(id, { type: "deposit", amount: 1 })).state.balance, 8);
    });

    const tx = h.transactions;
    if (tx !== undefined) {
      it("in the application's transaction: appended events commit or roll back with it", async () => {
        const s = await open();
        const id = stream();
        await assert.rejects(
          tx.run(s, async (t) => {
            await s.append(id, [ev("Lost")], { tx: t, expectedVersion: "no-stream" });
            throw new Error("the application failed");
          }),
          /the application failed/,
        );
        assert.equal(await s.streamVersion(id), 0);
        await tx.run(s, async (t) => {
          await s.append(id, [ev("Kept")], { tx: t, expectedVersion: "no-stream" });
        });
        assert.deepEqual(
          (await s.readStream(id)).map((e) => e.type),
          ["Kept"],
        );
      });

      it("appended events reach the bus through the outbox, in the append's transaction", async () => {
        const topic = uniqueName("events");
        const { store, relay } = await tx.open(topic);
        closers.push(() => store.close());
        const bus = await connect(`memory://${uniqueName("es")}`);
        closers.push(() => bus.close());
        const got: Message[] = [];
        await bus.subscribe(topic, { group: "g" }, (m) => {
          got.push(m);
        });
        const r = relay(bus);
        closers.push(() => r.close());
        const id = stream();
        await assert.rejects(
          tx.run(store, async (t) => {
            await store.append(id, [ev("Lost")], { tx: t });
            throw new Error("rolled back");
          }),
        );
        const appended = await store.append(id, [
          { type: "Opened", data: { n: 1 }, metadata: { correlationId: "c-1" } },
          ev("Renamed", { n: 2 }),
        ]);
        await waitFor("both events", () => got.length === 2, timeoutMs);
        assert.deepEqual(
          got.map((m) => [m.id, m.type, m.key, m.data]),
          appended.events.map((e) => [e.id, e.type, id, e.data]),
        );
        assert.equal(got[0]?.attributes.extensions.dataversion, "1");
        assert.equal(got[1]?.attributes.extensions.streamversion, "2");
        assert.equal(got[0]?.correlationId, "c-1");
      });
    }
  });
}
