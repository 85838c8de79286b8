// Small helpers the SQL stores share: table names checked before they are spliced into statements, a
// PostgreSQL pool or SQLite connection opened from a URL or path, and a SQLite file path that a second
// connection can open. Invariant: no name reaches SQL unchecked.

import type { Database } from "better-sqlite3";
import type { Pool, PoolClient } from "pg";

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,50}$/u;

/** `name` if it is a plain SQL identifier (no schema, no quoting), else a TypeError naming `what`. */
export function sqlIdent(what: string, name: string): string {
  if (!IDENT.test(name)) {
    throw new TypeError(`${what}: table "${name}" must be a plain SQL identifier (letters, digits, _; ≤ 50)`);
  }
  return name;
}

/** Postgres' unique-violation SQLSTATE. */
export const PG_UNIQUE_VIOLATION = "23505";

export function pgCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null ? (e as { code?: string }).code : undefined;
}

/** The caller's pool, or a new one for a connection string (which the store then owns and ends). */
export async function pgPool(poolOrUrl: Pool | string): Promise<Pool> {
  if (typeof poolOrUrl !== "string") return poolOrUrl;
  const pg = await import("pg");
  return new pg.default.Pool({ connectionString: poolOrUrl });
}

/**
 * The caller's connection, or a new one to the file `path` in WAL mode (which the store then owns).
 * `busyTimeoutMs` 0 for stores that retry a busy write on a timer instead of blocking the event loop.
 */
export async function sqliteDb(pathOrDb: string | Database, busyTimeoutMs: number): Promise<Database> {
  if (typeof pathOrDb !== "string") return pathOrDb;
  const { default: Sqlite } = await import("better-sqlite3");
  const db = new Sqlite(pathOrDb);
  db.pragma("journal_mode = WAL");
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  return db;
}

/**
 * Runs `fn` in a transaction on a client of its own: COMMIT when it resolves, ROLLBACK when it throws. A
 * client whose ROLLBACK failed is released as broken, so the pool drops it instead of handing it out again.
 */
export async function pgTransaction<T>(
  pool: Pool,
  fn: (client: PoolClient) => Promise<T>,
  begin = "BEGIN",
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(begin);
    const r = await fn(client);
    await client.query("COMMIT");
    return r;
  } catch (e) {
    await client.query("ROLLBACK").catch((re: unknown) => {
      broken = re instanceof Error ? re : new Error(String(re));
    });
    throw e;
  } finally {
    client.release(broken);
  }
}
