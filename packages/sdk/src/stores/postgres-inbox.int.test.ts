// The inbox store suite on the PostgreSQL server of this machine (127.0.0.1:5432, database `test`), and a
// consumer killed mid-handler: its transaction (inbox row and its write) rolls back and the redelivery
// runs again, exactly once in effect.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { fakeBus } from "../testing/fake-bus.ts";
import { inboxStoreContract } from "../testing/inbox-contract.ts";
import { postgresInbox } from "./postgres-inbox.ts";

const url = process.env.SPINDLE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const suffix = `${process.pid}_${Date.now()}`;
const table = `inbox_${suffix}`;
const effects = `effects_${suffix}`;
const pool = new pg.Pool({ connectionString: url });

before(async () => {
  await pool.query(`CREATE TABLE ${effects} (value text NOT NULL)`);
});
after(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${effects}, ${table}`);
  await pool.end();
});

inboxStoreContract("postgres", {
  open: () => postgresInbox(url, { table }),
  durable: true,
  transactional: {
    write: async (tx, value) => {
      await (tx as pg.PoolClient).query(`INSERT INTO ${effects} (value) VALUES ($1)`, [value]);
    },
    count: async () => Number((await pool.query(`SELECT count(*) AS n FROM ${effects}`)).rows[0].n),
  },
});

describe("postgres inbox: a consumer killed mid-handler", () => {
  it("rolls back the inbox row with the handler's writes; the redelivery runs once", async () => {
    const child = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        fileURLToPath(new URL("./fixtures/pg-kill-child.ts", import.meta.url)),
        url,
        table,
        effects,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (b: Buffer) => b.toString().includes("written") && resolve());
      child.on("exit", (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const exited = new Promise((r) => child.on("exit", r));
    child.kill("SIGKILL");
    await exited;
    const store = await postgresInbox(pool, { table });
    const ran = await store.once("kill-test", "m-1", async (tx) => {
      await (tx as pg.PoolClient).query(`INSERT INTO ${effects} (value) VALUES ('redelivered')`);
    });
    assert.equal(ran, true, "the killed run left no mark");
    const rows = (
      await pool.query(`SELECT value FROM ${effects} WHERE value <> 'ok' AND value NOT LIKE 'written%'`)
    ).rows;
    assert.deepEqual(
      rows.map((r) => r.value),
      ["redelivered"],
    );
    assert.equal(await store.once("kill-test", "m-1", async () => assert.fail("ran twice")), false);
  });
});

describe("postgres inbox on a subscription", () => {
  it("the handler gets the transaction: its writes and the inbox row commit together, duplicates skipped", async () => {
    const { bus, clock } = await fakeBus();
    const store = await postgresInbox(pool, { table });
    let failOnce = true;
    const sub = await bus.subscribe("payments", { group: "ledger", idempotent: store }, async (m, ctx) => {
      const tx = ctx.tx as pg.PoolClient;
      await tx.query(`INSERT INTO ${effects} (value) VALUES ($1)`, [`ledger:${m.id}`]);
      if (failOnce) {
        failOnce = false;
        throw new Error("after the write: rolled back with the inbox row");
      }
    });
    await bus.publish("payments", { cents: 100 }, { id: "pay-1" });
    await bus.publish("payments", { cents: 100 }, { id: "pay-1" });
    // the retry waits on the fake clock, the database on real time: move one while polling the other
    for (
      const end = Date.now() + 20_000;
      sub.stats.processed + sub.stats.duplicates < 2 && Date.now() < end;
    ) {
      await clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 20));
    }
    const rows = (await pool.query(`SELECT value FROM ${effects} WHERE value LIKE 'ledger:%'`)).rows;
    assert.deepEqual(
      rows.map((r) => r.value),
      ["ledger:pay-1"],
    );
    assert.deepEqual([sub.stats.failed, sub.stats.processed, sub.stats.duplicates], [1, 1, 1]);
    await bus.close();
  });
});
