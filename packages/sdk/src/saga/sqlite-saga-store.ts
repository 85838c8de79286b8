// Saga state and choreography timeouts in SQLite (better-sqlite3 12, loaded on first use): one row per
// saga with its state as JSON beside the columns that queries need. Invariant: an update matches the
// row's id and previous version in one statement, so of two writers from the same version one wins.

import { setTimeout as delay } from "node:timers/promises";
import type BetterSqlite3 from "better-sqlite3";
import { sqlIdent, sqliteDb } from "../lib/sql.ts";
import type { SagaState } from "./saga.ts";
import { queryLimit, type SagaQuery, type SagaStore, type SagaTimeout } from "./saga-store.ts";

type Database = BetterSqlite3.Database;

export interface SqliteSagaStoreOptions {
  /** Sagas table (timeouts: `<table>_timeouts`); default `spindle_sagas`. */
  readonly table?: string;
}

interface Row {
  state: string;
  version: number;
}

const ACTIVE = "status IN ('running', 'compensating')";
const isBusy = (e: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/u.test(String((e as { code?: string })?.code));

/** Runs one statement, waiting for another writer with timers rather than busy_timeout's blocking sleep. */
async function unbusy<T>(fn: () => T): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e) || attempt >= 1000) throw e;
      await delay(5);
    }
  }
}

export class SqliteSagaStore implements SagaStore {
  private readonly timeouts: string;

  constructor(
    readonly db: Database,
    private readonly table: string,
    private readonly ownsDb: boolean,
  ) {
    this.timeouts = `${table}_timeouts`;
  }

  private static parse(r: Row): SagaState {
    return { ...(JSON.parse(r.state) as SagaState), version: r.version };
  }

  async create(s: SagaState): Promise<boolean> {
    const r = await unbusy(() =>
      this.db
        .prepare(
          `INSERT INTO ${this.table} (id, name, status, version, due_at, updated_ms, state) ` +
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .run(s.id, s.name, s.status, s.version, s.dueAt ?? null, s.updatedAt, JSON.stringify(s)),
    );
    return r.changes === 1;
  }

  async get(id: string): Promise<SagaState | undefined> {
    const r = this.db.prepare(`SELECT state, version FROM ${this.table} WHERE id = ?`).get(id) as
      | Row
      | undefined;
    return r && SqliteSagaStore.parse(r);
  }

  async update(s: SagaState): Promise<boolean> {
    const r = await unbusy(() =>
      this.db
        .prepare(
          `UPDATE ${this.table} SET status = ?, version = ?, due_at = ?, updated_ms = ?, state = ? ` +
            "WHERE id = ? AND version = ?",
        )
        .run(s.status, s.version, s.dueAt ?? null, s.updatedAt, JSON.stringify(s), s.id, s.version - 1),
    );
    return r.changes === 1;
  }

  async list(q: SagaQuery = {}): Promise<SagaState[]> {
    const limit = queryLimit(q);
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.status !== undefined) where.push("status = ?") && args.push(q.status);
    if (q.name !== undefined) where.push("name = ?") && args.push(q.name);
    if (q.afterId !== undefined) where.push("id > ?") && args.push(q.afterId);
    const sql =
      `SELECT state, version FROM ${this.table}` +
      (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
      " ORDER BY id LIMIT ?";
    return (this.db.prepare(sql).all(...args, limit) as Row[]).map(SqliteSagaStore.parse);
  }

  async due(nowMs: number, limit: number): Promise<SagaState[]> {
    const rows = this.db
      .prepare(
        `SELECT state, version FROM ${this.table} WHERE ${ACTIVE} AND due_at <= ? ORDER BY due_at LIMIT ?`,
      )
      .all(nowMs, limit) as Row[];
    return rows.map(SqliteSagaStore.parse);
  }

  async scheduleTimeout(t: SagaTimeout): Promise<boolean> {
    const r = await unbusy(() =>
      this.db
        .prepare(
          `INSERT INTO ${this.timeouts} (id, due_at, done, body) VALUES (?, ?, 0, ?) ON CONFLICT (id) DO NOTHING`,
        )
        .run(t.id, t.dueAt, JSON.stringify(t)),
    );
    return r.changes === 1;
  }

  async cancelTimeout(id: string): Promise<boolean> {
    return this.finish(id);
  }

  async completeTimeout(id: string): Promise<boolean> {
    return this.finish(id);
  }

  private finish(id: string): boolean {
    return (
      this.db.prepare(`UPDATE ${this.timeouts} SET done = 1 WHERE id = ? AND done = 0`).run(id).changes === 1
    );
  }

  async timeoutPending(id: string): Promise<boolean> {
    return this.db.prepare(`SELECT 1 FROM ${this.timeouts} WHERE id = ? AND done = 0`).get(id) !== undefined;
  }

  async dueTimeouts(nowMs: number, limit: number): Promise<SagaTimeout[]> {
    const rows = this.db
      .prepare(`SELECT body FROM ${this.timeouts} WHERE done = 0 AND due_at <= ? ORDER BY due_at LIMIT ?`)
      .all(nowMs, limit) as Array<{ body: string }>;
    return rows.map((r) => JSON.parse(r.body) as SagaTimeout);
  }

  async purgeTimeouts(beforeMs: number): Promise<number> {
    return this.db.prepare(`DELETE FROM ${this.timeouts} WHERE done = 1 AND due_at < ?`).run(beforeMs)
      .changes;
  }

  async close(): Promise<void> {
    if (this.ownsDb) this.db.close();
  }
}

/**
 * Saga state in the SQLite file `path` (a connection of its own, WAL; a write waiting for another writer
 * retries on a timer, never blocking the event loop) or on a connection the caller owns. Creates the tables.
 */
export async function sqliteSagaStore(
  pathOrDb: string | Database,
  options: SqliteSagaStoreOptions = {},
): Promise<SqliteSagaStore> {
  const table = sqlIdent("sqliteSagaStore", options.table ?? "spindle_sagas");
  const db = await sqliteDb(pathOrDb, 0);
  db.exec(
    `CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, ` +
      "version INTEGER NOT NULL, due_at INTEGER, updated_ms INTEGER NOT NULL, state TEXT NOT NULL) WITHOUT ROWID;" +
      `CREATE INDEX IF NOT EXISTS ${table}_status ON ${table} (status, id);` +
      `CREATE INDEX IF NOT EXISTS ${table}_due ON ${table} (due_at) WHERE ${ACTIVE};` +
      `CREATE TABLE IF NOT EXISTS ${table}_timeouts (id TEXT PRIMARY KEY, due_at INTEGER NOT NULL, ` +
      "done INTEGER NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;" +
      `CREATE INDEX IF NOT EXISTS ${table}_timeouts_due ON ${table}_timeouts (done, due_at);`,
  );
  return new SqliteSagaStore(db, table, typeof pathOrDb === "string");
}
