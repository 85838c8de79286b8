// The projection suite on SQLite: events and the read model in one temporary file, the read model written
// through a connection of its own.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import type Database from "better-sqlite3";
import { sqliteEventStore } from "../eventsourcing/sqlite-event-store.ts";
import { projectionContract } from "../testing/projection-contract.ts";
import { sqliteProjectionStore } from "./sqlite-projection-store.ts";

const dir = mkdtempSync(join(tmpdir(), "spindle-sqlite-projections-"));
const file = join(dir, "app.db");
let n = 0;

projectionContract<Database.Database>("sqlite", {
  transactional: true,
  open: async () => {
    const k = n++;
    const events = await sqliteEventStore(file, { table: `events_${k}` });
    const store = await sqliteProjectionStore(file, { table: `checkpoints_${k}` });
    store.db.exec(`CREATE TABLE balances_${k} (account TEXT PRIMARY KEY, balance INTEGER NOT NULL)`);
    return {
      events,
      store,
      model: {
        add: async (tx, account, amount) => {
          tx.prepare(
            `INSERT INTO balances_${k} (account, balance) VALUES (?, ?) ` +
              "ON CONFLICT (account) DO UPDATE SET balance = balance + excluded.balance",
          ).run(account, amount);
        },
        reset: async (tx) => {
          tx.exec(`DELETE FROM balances_${k}`);
        },
        balances: async () =>
          Object.fromEntries(
            (
              store.db.prepare(`SELECT account, balance FROM balances_${k} ORDER BY account`).all() as Array<{
                account: string;
                balance: number;
              }>
            ).map((r) => [r.account, r.balance]),
          ),
      },
    };
  },
});

after(() => rmSync(dir, { recursive: true, force: true }));
