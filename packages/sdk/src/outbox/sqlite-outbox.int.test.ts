// The outbox store suite on SQLite: a temporary database file; the application writes with its own
// connection, each relay reads through one of its own.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import Database from "better-sqlite3";
import { outboxStoreContract } from "../testing/outbox-contract.ts";
import { sqliteOutbox } from "./sqlite-outbox.ts";

const dir = mkdtempSync(join(tmpdir(), "spindle-sqlite-outbox-"));
const file = join(dir, "app.db");
const db = new Database(file);
db.pragma("journal_mode = WAL");
db.pragma("busy_timeout = 5000");
db.exec("CREATE TABLE app (t TEXT NOT NULL, value TEXT NOT NULL)");
let n = 0;

outboxStoreContract("sqlite", {
  open: async (layout) => {
    const table = `outbox_${n++}`;
    const outbox = await sqliteOutbox(db, layout === undefined ? { table } : { table, layout });
    return {
      transaction: async (fn) => {
        db.exec("BEGIN IMMEDIATE");
        try {
          await fn({
            add: async (m) => outbox.add(db, m),
            write: async (v) => {
              db.prepare("INSERT INTO app (t, value) VALUES (?, ?)").run(table, v);
            },
          });
          db.exec("COMMIT");
        } catch (e) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw e;
        }
      },
      relay: (bus, options) => outbox.relay(bus, options),
      rows: async () => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n,
      writes: async () =>
        (db.prepare("SELECT value FROM app WHERE t = ?").all(table) as Array<{ value: string }>).map(
          (r) => r.value,
        ),
      columns: async () =>
        (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((r) => r.name),
    };
  },
});

after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});
