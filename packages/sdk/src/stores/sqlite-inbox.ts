// Inbox store in SQLite (better-sqlite3 12, loaded on first use). Transactional by default: BEGIN
// IMMEDIATE, check, run the handler with the connection as `tx`, mark, COMMIT — one handler at a time,
// because SQLite has one writer. Invariant: the mark and the handler's writes through `tx` commit or roll
// back together; without `transactional` the mark is written after the handler (a crash in between
// repeats it) and handlers overlap.

import type BetterSqlite3 from "better-sqlite3";
import type { InboxStore } from "../pipeline/inbox.ts";

export interface SqliteInboxOptions {
  /** Table of marks; created if missing. Default `spindle_inbox`. */
  readonly table?: string;
  /** Mark in the handler's transaction (default true; handlers then run one at a time). */
  readonly transactional?: boolean;
  readonly nowMs?: () => number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/u;

export class SqliteInbox implements InboxStore {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly has: BetterSqlite3.Statement<[string, string]>;
  private readonly mark: BetterSqlite3.Statement<[string, string, number]>;
  private readonly transactional: boolean;
  private readonly nowMs: () => number;

  constructor(
    readonly db: BetterSqlite3.Database,
    private readonly table: string,
    private readonly ownsDb: boolean,
    o: SqliteInboxOptions,
  ) {
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${table} (consumer TEXT NOT NULL, message_id TEXT NOT NULL, ` +
        "processed_ms INTEGER NOT NULL, PRIMARY KEY (consumer, message_id)) WITHOUT ROWID",
    );
    this.has = db.prepare(`SELECT 1 FROM ${table} WHERE consumer = ? AND message_id = ?`);
    this.mark = db.prepare(
      `INSERT OR IGNORE INTO ${table} (consumer, message_id, processed_ms) VALUES (?, ?, ?)`,
    );
    this.transactional = o.transactional ?? true;
    this.nowMs = o.nowMs ?? Date.now;
  }

  once(consumer: string, id: string, fn: (tx: unknown) => Promise<void>): Promise<boolean> {
    if (!this.transactional) return this.onceLoose(consumer, id, fn);
    // one transaction at a time on this connection: chain each run after the previous one
    const run = this.tail.then(() => this.inTransaction(consumer, id, fn));
    this.tail = run.catch(() => {});
    return run;
  }

  private async inTransaction(
    consumer: string,
    id: string,
    fn: (tx: unknown) => Promise<void>,
  ): Promise<boolean> {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      if (this.has.get(consumer, id) !== undefined) {
        this.db.exec("ROLLBACK");
        return false;
      }
      await fn(this.db);
      this.mark.run(consumer, id, this.nowMs());
      this.db.exec("COMMIT");
      return true;
    } catch (e) {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      throw e;
    }
  }

  private async onceLoose(
    consumer: string,
    id: string,
    fn: (tx: unknown) => Promise<void>,
  ): Promise<boolean> {
    const key = `${consumer}\u0000${id}`;
    for (let r = this.running.get(key); r !== undefined; r = this.running.get(key)) await r.catch(() => {});
    if (this.has.get(consumer, id) !== undefined) return false;
    const run = fn(this.db);
    this.running.set(key, run);
    try {
      await run;
      this.mark.run(consumer, id, this.nowMs());
      return true;
    } finally {
      this.running.delete(key);
    }
  }

  async purge(beforeMs: number): Promise<number> {
    await this.tail;
    return this.db.prepare(`DELETE FROM ${this.table} WHERE processed_ms < ?`).run(beforeMs).changes;
  }

  async close(): Promise<void> {
    await this.tail;
    if (this.ownsDb) this.db.close();
  }
}

/** An inbox in the SQLite file `path` (opened here, WAL mode) or on a connection the caller owns. */
export async function sqliteInbox(
  pathOrDb: string | BetterSqlite3.Database,
  options: SqliteInboxOptions = {},
): Promise<SqliteInbox> {
  const table = options.table ?? "spindle_inbox";
  if (!IDENT.test(table)) throw new TypeError(`sqliteInbox: table "${table}" must be a plain SQL identifier`);
  if (typeof pathOrDb !== "string") return new SqliteInbox(pathOrDb, table, false, options);
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(pathOrDb);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  return new SqliteInbox(db, table, true, options);
}
