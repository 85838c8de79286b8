// Read models and their checkpoints in PostgreSQL (pg, loaded on first use). Each batch runs on a pooled
// client inside BEGIN … COMMIT, the client being `tx`. Invariant: the read-model writes of a batch and
// its checkpoint commit together; a process killed mid-batch leaves neither.

import type { Pool, PoolClient } from "pg";
import { pgPool, pgTransaction, sqlIdent } from "../lib/sql.ts";
import type { ProjectionStore } from "./projection.ts";

export interface PostgresProjectionStoreOptions {
  /** Checkpoints table; default `spindle_projections`. */
  readonly table?: string;
}

export class PostgresProjectionStore implements ProjectionStore<PoolClient> {
  constructor(
    readonly pool: Pool,
    private readonly table: string,
    private readonly ownsPool: boolean,
  ) {}

  transaction<T>(fn: (tx: PoolClient) => Promise<T>): Promise<T> {
    return pgTransaction(this.pool, fn);
  }

  async loadCheckpoint(name: string): Promise<string | undefined> {
    const r = await this.pool.query<{ checkpoint: string }>(
      `SELECT checkpoint FROM ${this.table} WHERE name = $1`,
      [name],
    );
    return r.rows[0]?.checkpoint;
  }

  async saveCheckpoint(tx: PoolClient, name: string, checkpoint: string): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.table} (name, checkpoint) VALUES ($1, $2) ` +
        "ON CONFLICT (name) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = now()",
      [name, checkpoint],
    );
  }

  async clearCheckpoint(tx: PoolClient, name: string): Promise<void> {
    await tx.query(`DELETE FROM ${this.table} WHERE name = $1`, [name]);
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}

/** Read-model transactions on a pool the caller owns, or a new pool for a connection string. */
export async function postgresProjectionStore(
  poolOrUrl: Pool | string,
  options: PostgresProjectionStoreOptions = {},
): Promise<PostgresProjectionStore> {
  const table = sqlIdent("postgresProjectionStore", options.table ?? "spindle_projections");
  const pool = await pgPool(poolOrUrl);
  const ddl =
    `CREATE TABLE IF NOT EXISTS ${table} (name text PRIMARY KEY, checkpoint text NOT NULL, ` +
    "updated_at timestamptz NOT NULL DEFAULT now())";
  await pool.query(ddl).catch(() => pool.query(ddl));
  return new PostgresProjectionStore(pool, table, typeof poolOrUrl === "string");
}
