// Read models and their checkpoints in SQLite (better-sqlite3 12, loaded on first use). Each batch runs
// in BEGIN IMMEDIATE … COMMIT on the store's connection with the connection as `tx`. Invariant: the
// read-model writes of a batch and its checkpoint commit together; transactions on this connection run
// one at a time, and waiting for another writer never blocks the event loop.

import { setTimeout as delay } from "node:timers/promises";
import type BetterSqlite3 from "better-sqlite3";
import { sqlIdent, sqliteDb } from "../lib/sql.ts";
import type { ProjectionStore } from "./projection.ts";

type Database = BetterSqlite3.Database;

export interface SqliteProjectionStoreOptions {
  /** Checkpoints table; default `spindle_projections`. */
  readonly table?: string;
}

const isBusy = (e: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/u.test(String((e as { code?: string })?.code));

export class SqliteProjectionStore implements ProjectionStore<Database> {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly db: Database,
    private readonly table: string,
    private readonly ownsDb: boolean,
  ) {}

  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    const run = this.tail.then(() => this.inTransaction(fn));
    this.tail = run.catch(() => {});
    return run;
  }

  private async inTransaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.db.exec("BEGIN IMMEDIATE");
        break;
      } catch (e) {
        if (!isBusy(e) || attempt >= 1000) throw e;
        await delay(5);
      }
    }
    try {
      const r = await fn(this.db);
      this.db.exec("COMMIT");
      return r;
    } catch (e) {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      throw e;
    }
  }

  async loadCheckpoint(name: string): Promise<string | undefined> {
    const r = this.db.prepare(`SELECT checkpoint FROM ${this.table} WHERE name = ?`).get(name) as
      | { checkpoint: string }
      | undefined;
    return r?.checkpoint;
  }

  async saveCheckpoint(tx: Database, name: string, checkpoint: string): Promise<void> {
    tx.prepare(
      `INSERT INTO ${this.table} (name, checkpoint, updated_ms) VALUES (?, ?, ?) ` +
        "ON CONFLICT (name) DO UPDATE SET checkpoint = excluded.checkpoint, updated_ms = excluded.updated_ms",
    ).run(name, checkpoint, Date.now());
  }

  async clearCheckpoint(tx: Database, name: string): Promise<void> {
    tx.prepare(`DELETE FROM ${this.table} WHERE name = ?`).run(name);
  }

  async close(): Promise<void> {
    await this.tail;
    if (this.ownsDb) this.db.close();
  }
}

/**
 * Read-model transactions on a connection of their own to the SQLite file `path` (recommended: the
 * application's connection may hold a transaction open across an await) or on a connection the caller
 * owns. Creates the checkpoints table.
 */
export async function sqliteProjectionStore(
  pathOrDb: string | Database,
  options: SqliteProjectionStoreOptions = {},
): Promise<SqliteProjectionStore> {
  const table = sqlIdent("sqliteProjectionStore", options.table ?? "spindle_projections");
  const db = await sqliteDb(pathOrDb, 0);
  db.exec(
    `CREATE TABLE IF NOT EXISTS ${table} (name TEXT PRIMARY KEY, checkpoint TEXT NOT NULL, ` +
      "updated_ms INTEGER NOT NULL) WITHOUT ROWID",
  );
  return new SqliteProjectionStore(db, table, typeof pathOrDb === "string");
}
