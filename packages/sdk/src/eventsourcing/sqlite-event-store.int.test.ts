// The event store suite on SQLite (a temporary file): appends in the application's transaction on its
// connection, and through an outbox in the same file relayed by a connection of its own.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import Database from "better-sqlite3";
import { sqliteOutbox } from "../outbox/sqlite-outbox.ts";
import { eventStoreContract } from "../testing/event-store-contract.ts";
import { type SqliteEventStore, sqliteEventStore } from "./sqlite-event-store.ts";

const dir = mkdtempSync(join(tmpdir(), "spindle-sqlite-events-"));
const file = join(dir, "app.db");
const db = new Database(file);
db.pragma("journal_mode = WAL");
db.pragma("busy_timeout = 5000");
let n = 0;

eventStoreContract<Database.Database>("sqlite", {
  open: (o) => sqliteEventStore(db, { table: `events_${n++}`, ...o }),
  transactions: {
    open: async (topic) => {
      const outbox = await sqliteOutbox(db, { table: `outbox_${n}` });
      const store = await sqliteEventStore(db, { table: `events_${n++}`, outbox, outboxOptions: { topic } });
      return { store, relay: (bus) => outbox.relay(bus) };
    },
    run: async (store, fn) => {
      const conn = (store as SqliteEventStore).db;
      conn.exec("BEGIN IMMEDIATE");
      try {
        await fn(conn);
        conn.exec("COMMIT");
      } catch (e) {
        if (conn.inTransaction) conn.exec("ROLLBACK");
        throw e;
      }
    },
  },
});

after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});
