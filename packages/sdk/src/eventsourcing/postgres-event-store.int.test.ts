// The event store suite on the PostgreSQL server of this machine (127.0.0.1:5432, database `test`), on
// tables named for this run and dropped after it; and the two orderings only PostgreSQL can get wrong:
// an event committed late is read late, not skipped, and a stream's versions stay in global order when an
// older transaction appends after a younger one.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import pg from "pg";
import { ConflictError } from "../errors.ts";
import { postgresOutbox } from "../outbox/postgres-outbox.ts";
import { eventStoreContract } from "../testing/event-store-contract.ts";
import { uniqueName, waitForAsync } from "../testing/wait.ts";
import { type PostgresEventStore, postgresEventStore } from "./postgres-event-store.ts";

const url = process.env.SPINDLE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const suffix = `${process.pid}_${Date.now()}`;
const pool = new pg.Pool({ connectionString: url, max: 20 });
const created: string[] = [];
let n = 0;
const table = (): string => {
  const t = `events_${suffix}_${n++}`;
  created.push(t, `${t}_streams`, `${t}_snapshots`);
  return t;
};

eventStoreContract<pg.ClientBase>("postgres", {
  open: (o) => postgresEventStore(pool, { table: table(), ...o }),
  transactions: {
    open: async (topic) => {
      const outboxTable = `outbox_${suffix}_${n}`;
      created.push(outboxTable);
      const outbox = await postgresOutbox(pool, { table: outboxTable });
      const store = await postgresEventStore(pool, { table: table(), outbox, outboxOptions: { topic } });
      return { store, relay: (bus) => outbox.relay(bus) };
    },
    run: async (_store, fn) => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await fn(client);
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK");
        throw e;
      } finally {
        client.release();
      }
    },
  },
});

/** A transaction held open by the test: BEGIN now, COMMIT when told. */
async function openTx(): Promise<pg.PoolClient & { commit(): Promise<void> }> {
  const c = await pool.connect();
  await c.query("BEGIN");
  return Object.assign(c, {
    commit: async () => {
      await c.query("COMMIT");
      c.release();
    },
  });
}

describe("postgres event store: orderings", () => {
  it("an event whose transaction commits late is read after the ones before it, never skipped", async () => {
    const s: PostgresEventStore = await postgresEventStore(pool, { table: table() });
    const [a, b] = [uniqueName("a"), uniqueName("b")];
    const early = await openTx();
    await s.append(a, [{ type: "Early", data: 1 }], { tx: early }); // position p, not committed
    await s.append(b, [{ type: "Later", data: 2 }]); // position p + 1, committed
    const first = await s.readAll();
    assert.deepEqual(first, [], "nothing is readable while an older transaction is open");
    await early.commit();
    // another client's transaction on the server may still hold the global order back: wait, bounded
    await waitForAsync("both events", async () => (await s.readAll()).length === 2, 15_000);
    const all = await s.readAll();
    assert.deepEqual(
      all.map((e) => e.type),
      ["Early", "Later"],
    );
    const head = await s.head();
    assert.equal(head, all[1]?.checkpoint);
  });

  it("an append from a transaction older than the stream's last writer is a ConflictError, even with 'any'", async () => {
    const s = await postgresEventStore(pool, { table: table() });
    const id = uniqueName("s");
    const old = await openTx();
    await old.query("SELECT pg_current_xact_id()"); // the old transaction takes its id first
    await s.append(id, [{ type: "Young", data: 1 }]);
    await assert.rejects(s.append(id, [{ type: "Old", data: 2 }], { tx: old }), ConflictError);
    await old.commit();
    await s.append(id, [{ type: "Retried", data: 2 }]);
    await waitForAsync("both events", async () => (await s.readAll()).length === 2, 15_000);
    const all = (await s.readAll()).filter((e) => e.streamId === id);
    assert.deepEqual(
      all.map((e) => [e.type, e.version]),
      [
        ["Young", 1],
        ["Retried", 2],
      ],
    );
  });
});

after(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${created.join(", ")}`);
  await pool.end();
});

describe("postgres event store: NOTIFY after commit", () => {
  // PostgreSQL commits the transactions that NOTIFYed one at a time (a database-wide lock held through
  // the commit's WAL flush): appends in their own transactions must not NOTIFY inside them, or appends on
  // eight connections commit no faster than on one.
  it("an append in its own transaction NOTIFYs its channel and the outbox's after COMMIT, not before", async () => {
    const spied = new pg.Pool({ connectionString: url, max: 4 });
    const log: string[] = [];
    const wrapped = new WeakSet<object>();
    spied.on("acquire", (client) => {
      if (wrapped.has(client)) return;
      wrapped.add(client);
      const query = client.query.bind(client) as (...a: unknown[]) => unknown;
      (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
        const text = a[0] as string | { text: string };
        log.push(typeof text === "string" ? text : text.text);
        return query(...a);
      };
    });
    const outboxTable = `outbox_${suffix}_notify`;
    created.push(outboxTable);
    const outbox = await postgresOutbox(spied, { table: outboxTable });
    const t = table();
    const store = await postgresEventStore(spied, { table: t, outbox, outboxOptions: { topic: "t" } });
    const listener = await pool.connect();
    const heard: string[] = [];
    listener.on("notification", (m) => heard.push(m.channel));
    await listener.query(`LISTEN "${t}"`);
    await listener.query(`LISTEN "${outboxTable}"`);
    try {
      log.length = 0;
      await store.append("s", [{ type: "T", data: 1 }], { expectedVersion: "no-stream" });
      const begin = log.indexOf("BEGIN");
      const commit = log.indexOf("COMMIT");
      assert.ok(begin >= 0 && commit > begin, `one transaction: ${log.join(" | ")}`);
      assert.deepEqual(
        log.slice(begin, commit).filter((q) => q.includes("pg_notify")),
        [],
        "no NOTIFY inside the append's transaction",
      );
      for (let i = 0; i < 200 && heard.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(heard.sort(), [outboxTable, t].sort(), "both channels notified after the commit");
    } finally {
      await listener.query("UNLISTEN *");
      listener.release();
      await store.close();
      await spied.end();
    }
  });
});
