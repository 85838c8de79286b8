// One small database interface over SQLite (better-sqlite3) and PostgreSQL (pg), so each service writes
// its SQL once: `$1`-style parameters, transactions that may await. Invariant: a SQLite connection runs
// one transaction at a time (later ones wait their turn), because its transaction spans awaits.

import type BetterSqlite3 from "better-sqlite3";
import type { Pool, PoolClient } from "pg";
import type { Config } from "./config.ts";

/** Statements inside (or outside) a transaction. */
export interface Tx {
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** The driver's handle: a better-sqlite3 connection in a transaction, or a pg client after BEGIN. */
  readonly raw: unknown;
}

export interface Db extends Tx {
  readonly kind: "sqlite" | "postgres";
  /** The connection (SQLite) or pool (PostgreSQL) the SDK's stores take. */
  readonly handle: BetterSqlite3.Database | Pool;
  /** Runs `fn` in a transaction, committed unless it throws. */
  tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` alone on this connection (SQLite: after every transaction before it, before the next), for
   * an SDK store that opens its own transaction on the connection (the inbox). PostgreSQL: at once.
   */
  serialize<T>(fn: () => Promise<T>): Promise<T>;
  /** Wraps a transaction handle the SDK gave (an inbox's or a projection's `tx`). */
  txOf(raw: unknown): Tx;
  close(): Promise<void>;
}

/** `$1 … $n` → `?` with the values in the order they appear (better-sqlite3 takes no `?NNN`). */
function sqlite(sql: string, params: readonly unknown[]): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const text = sql.replace(/\$(\d+)/gu, (_, n: string) => {
    values.push(params[Number(n) - 1]);
    return "?";
  });
  return { sql: text, values };
}

function sqliteTx(db: BetterSqlite3.Database): Tx {
  return {
    raw: db,
    run: async (sql, params = []) => {
      const q = sqlite(sql, params);
      return db.prepare(q.sql).run(...q.values).changes;
    },
    all: async <T>(sql: string, params: readonly unknown[] = []) => {
      const q = sqlite(sql, params);
      return db.prepare(q.sql).all(...q.values) as T[];
    },
  };
}

function pgTx(client: Pool | PoolClient): Tx {
  return {
    raw: client,
    run: async (sql, params = []) => (await client.query(sql, params as unknown[])).rowCount ?? 0,
    all: async <T>(sql: string, params: readonly unknown[] = []) =>
      (await client.query(sql, params as unknown[])).rows as T[],
  };
}

async function openSqlite(file: string): Promise<Db> {
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  const self = sqliteTx(db);
  let tail: Promise<unknown> = Promise.resolve();
  const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn);
    tail = run.catch(() => {});
    return run;
  };
  return {
    ...self,
    kind: "sqlite",
    handle: db,
    serialize,
    tx: <T>(fn: (tx: Tx) => Promise<T>): Promise<T> =>
      serialize(async () => {
        db.exec("BEGIN IMMEDIATE");
        try {
          const r = await fn(self);
          db.exec("COMMIT");
          return r;
        } catch (e) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw e;
        }
      }),
    txOf: (raw) => sqliteTx(raw as BetterSqlite3.Database),
    close: async () => {
      await tail;
      db.close();
    },
  };
}

async function openPostgres(url: string): Promise<Db> {
  const pg = await import("pg");
  const pool = new pg.default.Pool({ connectionString: url, max: 20 });
  pool.on("error", () => {}); // an idle client's server went away: the pool replaces it
  return {
    ...pgTx(pool),
    kind: "postgres",
    handle: pool,
    serialize: (fn) => fn(),
    tx: async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const r = await fn(pgTx(client));
        await client.query("COMMIT");
        return r;
      } catch (e) {
        await client.query("ROLLBACK").catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    txOf: (raw) => pgTx(raw as PoolClient),
    close: () => pool.end(),
  };
}

/** A connection (SQLite) or a pool (PostgreSQL) of its own for one service. */
export function openDb(config: Config): Promise<Db> {
  return config.database.kind === "sqlite"
    ? openSqlite(config.database.file)
    : openPostgres(config.database.url);
}
