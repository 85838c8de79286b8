// The projection suite on the PostgreSQL server of this machine (127.0.0.1:5432, database `test`):
// events, checkpoints and the read model in tables named for this run and dropped after it.

import { after } from "node:test";
import pg from "pg";
import { postgresEventStore } from "../eventsourcing/postgres-event-store.ts";
import { projectionContract } from "../testing/projection-contract.ts";
import { postgresProjectionStore } from "./postgres-projection-store.ts";

const url = process.env.SPINDLE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const suffix = `${process.pid}_${Date.now()}`;
const pool = new pg.Pool({ connectionString: url, max: 20 });
const created: string[] = [];
let n = 0;

projectionContract<pg.PoolClient>("postgres", {
  transactional: true,
  open: async () => {
    const k = `${suffix}_${n++}`;
    created.push(
      `events_${k}`,
      `events_${k}_streams`,
      `events_${k}_snapshots`,
      `checkpoints_${k}`,
      `balances_${k}`,
    );
    const events = await postgresEventStore(pool, { table: `events_${k}` });
    const store = await postgresProjectionStore(pool, { table: `checkpoints_${k}` });
    await pool.query(`CREATE TABLE balances_${k} (account text PRIMARY KEY, balance bigint NOT NULL)`);
    return {
      events,
      store,
      model: {
        add: async (tx, account, amount) => {
          await tx.query(
            `INSERT INTO balances_${k} (account, balance) VALUES ($1, $2) ` +
              `ON CONFLICT (account) DO UPDATE SET balance = balances_${k}.balance + EXCLUDED.balance`,
            [account, amount],
          );
        },
        reset: async (tx) => {
          await tx.query(`DELETE FROM balances_${k}`);
        },
        balances: async () =>
          Object.fromEntries(
            (await pool.query(`SELECT account, balance FROM balances_${k} ORDER BY account`)).rows.map(
              (r) => [r.account, Number(r.balance)],
            ),
          ),
      },
    };
  },
});

after(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${created.join(", ")}`);
  await pool.end();
});
