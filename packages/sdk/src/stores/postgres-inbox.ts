// Inbox store in PostgreSQL (pg, loaded on first use). Each run: a pooled client, BEGIN, INSERT the mark
// ON CONFLICT DO NOTHING, the handler with the client as `tx`, COMMIT. Invariant: the mark and the
// handler's writes through `tx` commit together or not at all; a concurrent run for the same key waits on
// the row lock of the first and sees its outcome (duplicate if it committed, runs if it rolled back).

import type { Pool, PoolClient } from "pg";
import { pgPool } from "../lib/sql.ts";
import type { InboxStore } from "../pipeline/inbox.ts";

export interface PostgresInboxOptions {
  /** Table of marks; created if missing. Default `spindle_inbox`. */
  readonly table?: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/u;

export class PostgresInbox implements InboxStore {
  constructor(
    readonly pool: Pool,
    private readonly table: string,
    private readonly ownsPool: boolean,
  ) {}

  async once(consumer: string, id: string, fn: (tx: unknown) => Promise<void>): Promise<boolean> {
    const client: PoolClient = await this.pool.connect();
    let broken: unknown;
    try {
      await client.query("BEGIN");
      const r = await client.query(
        `INSERT INTO ${this.table} (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [consumer, id],
      );
      if (r.rowCount === 0) {
        await client.query("ROLLBACK");
        return false;
      }
      await fn(client);
      await client.query("COMMIT");
      return true;
    } catch (e) {
      await client.query("ROLLBACK").catch((re: unknown) => {
        broken = re;
      });
      throw e;
    } finally {
      // a client whose rollback failed is in an unknown state: destroy it rather than reuse it
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async purge(beforeMs: number): Promise<number> {
    const r = await this.pool.query(
      `DELETE FROM ${this.table} WHERE processed_at < to_timestamp($1 / 1000.0)`,
      [beforeMs],
    );
    return r.rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}

/**
 * An inbox in PostgreSQL, on a pool the caller owns (so handlers' writes and the marks share it) or on a
 * new pool for `connectionString`. Creates the table if missing.
 */
export async function postgresInbox(
  poolOrUrl: Pool | string,
  options: PostgresInboxOptions = {},
): Promise<PostgresInbox> {
  const table = options.table ?? "spindle_inbox";
  if (!IDENT.test(table))
    throw new TypeError(`postgresInbox: table "${table}" must be a plain SQL identifier`);
  const pool = await pgPool(poolOrUrl);
  const ddl =
    `CREATE TABLE IF NOT EXISTS ${table} (consumer text NOT NULL, message_id text NOT NULL, ` +
    "processed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (consumer, message_id))";
  // two processes creating the table at once: one of them gets a unique violation on the catalog
  await pool.query(ddl).catch(() => pool.query(ddl));
  return new PostgresInbox(pool, table, typeof poolOrUrl === "string");
}
