// The outbox store suite on the PostgreSQL server of this machine (127.0.0.1:5432, database `test`), on
// tables named for this run and dropped after it; the relay's LISTEN connection killed by the server; the
// claim's query plans on a large backlog; batches claimed while earlier ones publish.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { setTimeout } from "node:timers/promises";
import pg from "pg";
import { connect } from "../index.ts";
import { outboxStoreContract } from "../testing/outbox-contract.ts";
import { uniqueName, waitFor } from "../testing/wait.ts";
import { layoutColumns } from "./outbox.ts";
import { blockedSql, CLAIM_BEGIN, claimSql, postgresOutbox } from "./postgres-outbox.ts";

const url = process.env.SPINDLE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const suffix = `${process.pid}_${Date.now()}`;
const app = `outbox_app_${suffix}`;
const pool = new pg.Pool({ connectionString: url, max: 20 });
const created: string[] = [app];
let n = 0;

outboxStoreContract("postgres", {
  open: async (layout) => {
    const table = `outbox_${suffix}_${n++}`;
    created.push(table);
    await pool.query(`CREATE TABLE IF NOT EXISTS ${app} (t text NOT NULL, value text NOT NULL)`);
    const outbox = await postgresOutbox(pool, layout === undefined ? { table } : { table, layout });
    return {
      transaction: async (fn) => {
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          await fn({
            add: (m) => outbox.add(client, m),
            write: async (v) => {
              await client.query(`INSERT INTO ${app} (t, value) VALUES ($1, $2)`, [table, v]);
            },
          });
          await client.query("COMMIT");
        } catch (e) {
          await client.query("ROLLBACK");
          throw e;
        } finally {
          client.release();
        }
      },
      relay: (bus, options) => outbox.relay(bus, options),
      rows: async () => (await pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n,
      writes: async () =>
        (await pool.query(`SELECT value FROM ${app} WHERE t = $1`, [table])).rows.map((r) => r.value),
      columns: async () =>
        (
          await pool.query("SELECT column_name FROM information_schema.columns WHERE table_name = $1", [
            table,
          ])
        ).rows.map((r) => r.column_name),
    };
  },
});

after(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${created.join(", ")}`);
  await pool.end();
});

describe("postgres outbox: the relay's LISTEN connection", () => {
  it("is re-established after the server drops it, and the relay wakes on commits again", async () => {
    const table = `outbox_${suffix}_listen`;
    created.push(table);
    const outbox = await postgresOutbox(pool, { table });
    const bus = await connect(`memory://${uniqueName("listen")}`);
    const got: unknown[] = [];
    await bus.subscribe("t", { group: "g" }, (m) => {
      got.push(m.data);
    });
    const errors: unknown[] = [];
    const relay = outbox.relay(bus, { pollMs: 600_000, onError: (e) => errors.push(e) });
    const listener = async () =>
      (
        await pool.query("SELECT pid FROM pg_stat_activity WHERE query = $1 AND state = 'idle'", [
          `LISTEN "${table}"`,
        ])
      ).rows;
    for (let rows = await listener(); rows.length === 0; rows = await listener()) await setTimeout(20);
    const [{ pid }] = await listener();
    await pool.query("SELECT pg_terminate_backend($1)", [pid]);
    await waitFor("the dropped connection noticed", () => errors.length > 0, 15_000);
    for (let rows = await listener(); rows.length === 0; rows = await listener()) await setTimeout(20);
    const client = await pool.connect();
    await client.query("BEGIN");
    await outbox.add(client, { topic: "t", data: "after the drop" });
    await client.query("COMMIT");
    client.release();
    await waitFor("the message, long before the 10-minute poll", () => got.length === 1, 15_000);
    await relay.close();
    await bus.close();
  });
});

describe("postgres outbox: claims on a large backlog", () => {
  // The table is fresh (no statistics) and half its rows are already deleted, as during a drain: with
  // a plain BEGIN the planner bitmap-scanned every pending row and sorted them for each claim.
  it("walk the pending indexes in order, without reading and sorting the whole backlog", async () => {
    const table = `outbox_${suffix}_plan`;
    created.push(table);
    const outbox = await postgresOutbox(pool, { table });
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const messages = Array.from({ length: 4000 }, (_, i) => ({ topic: "t", key: `k${i % 400}`, data: i }));
      await outbox.addAll(client, messages);
      await client.query("COMMIT");
      await client.query(
        `DELETE FROM ${table} WHERE seq IN (SELECT seq FROM ${table} ORDER BY seq LIMIT 2000)`,
      );
      await client.query(CLAIM_BEGIN);
      const sync = await client.query("SELECT current_setting('synchronous_commit') AS s");
      assert.equal(sync.rows[0].s, "off", "marks commit without a second fsync per batch");
      const plan = async (sql: string, args: unknown[]) =>
        (await client.query(`EXPLAIN ${sql}`, args)).rows.map((r) => r["QUERY PLAN"] as string).join("\n");
      const cols = layoutColumns("spindle");
      const claim = await plan(claimSql(table, cols), [500]);
      assert.match(claim, new RegExp(`Index Scan using ${table}_pending on`));
      assert.doesNotMatch(claim, /Sort|Bitmap/);
      const claimed = await client.query(`${claimSql(table, cols)}`, [500]);
      const seqs = claimed.rows.map((r) => r.seq);
      const blocked = await plan(blockedSql(table, cols), [seqs, claimed.rows.map((r) => r.key)]);
      assert.match(blocked, new RegExp(`Index Only Scan using ${table}_pending_key on`));
      assert.doesNotMatch(blocked, /Hash|Bitmap/);
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
  });
});

describe("postgres outbox: the relay's pipeline", () => {
  it("claims the next batches while a batch's publishes are in flight, each key's rows still in order", async () => {
    const table = `outbox_${suffix}_pipeline`;
    created.push(table);
    const outbox = await postgresOutbox(pool, { table });
    const client = await pool.connect();
    await client.query("BEGIN");
    // batches of 5: keys k0-k4, k5-k9, k0-k4 again (held back until the first batch is marked), …
    const messages = Array.from({ length: 40 }, (_, i) => ({ topic: "t", key: `k${i % 10}`, data: i }));
    await outbox.addAll(client, messages);
    await client.query("COMMIT");
    client.release();
    let inFlight = 0;
    let maxInFlight = 0;
    const published: number[] = [];
    const slow = {
      publish: async (_topic: string, data: unknown) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await setTimeout(30);
        inFlight--;
        published.push(data as number);
        return "id";
      },
    };
    const relay = outbox.relay(slow, { batchSize: 5, pipeline: 4, pollMs: 200 });
    await waitFor("all 40 published", () => published.length >= 40, 30_000);
    await relay.close();
    assert.deepEqual(
      [...published].sort((a, b) => a - b),
      messages.map((m) => m.data),
      "every row once",
    );
    for (let k = 0; k < 10; k++) {
      const mine = published.filter((d) => d % 10 === k);
      assert.deepEqual(
        mine,
        [...mine].sort((a, b) => a - b),
        `key k${k} in order`,
      );
    }
    assert.ok(maxInFlight > 5, `more than one batch of 5 in flight at once (at most ${maxInFlight})`);
  });

  it("refuses a pipeline that is not a whole number of batches", async () => {
    const outbox = await postgresOutbox(pool, { table: `outbox_${suffix}_plan` });
    assert.throws(() => outbox.relay({ publish: async () => "id" }, { pipeline: 0 }), /pipeline must be/);
    assert.throws(() => outbox.relay({ publish: async () => "id" }, { pipeline: 1.5 }), /pipeline must be/);
  });
});
