// Saga state and choreography timeouts in PostgreSQL (pg, loaded on first use): one row per saga with its
// state as jsonb beside the columns that queries need. Invariant: an update matches the row's id and
// previous version in one statement, so of two writers from the same version (two orchestrator
// processes, one reply delivered twice) exactly one wins.

import type { Pool } from "pg";
import { pgPool, sqlIdent } from "../lib/sql.ts";
import type { SagaState } from "./saga.ts";
import { queryLimit, type SagaQuery, type SagaStore, type SagaTimeout } from "./saga-store.ts";

export interface PostgresSagaStoreOptions {
  /** Sagas table (timeouts: `<table>_timeouts`); default `spindle_sagas`. */
  readonly table?: string;
}

interface Row {
  state: SagaState;
  version: string | number;
}

const ACTIVE = "status IN ('running', 'compensating')";
const parse = (r: Row): SagaState => ({ ...r.state, version: Number(r.version) });

export class PostgresSagaStore implements SagaStore {
  private readonly timeouts: string;

  constructor(
    readonly pool: Pool,
    private readonly table: string,
    private readonly ownsPool: boolean,
  ) {
    this.timeouts = `${table}_timeouts`;
  }

  async create(s: SagaState): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO ${this.table} (id, name, status, version, due_at, updated_ms, state) ` +
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
      [s.id, s.name, s.status, s.version, s.dueAt ?? null, s.updatedAt, JSON.stringify(s)],
    );
    return r.rowCount === 1;
  }

  async get(id: string): Promise<SagaState | undefined> {
    const r = await this.pool.query<Row>(`SELECT state, version FROM ${this.table} WHERE id = $1`, [id]);
    const row = r.rows[0];
    return row && parse(row);
  }

  async update(s: SagaState): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE ${this.table} SET status = $1, version = $2, due_at = $3, updated_ms = $4, state = $5 ` +
        "WHERE id = $6 AND version = $7",
      [s.status, s.version, s.dueAt ?? null, s.updatedAt, JSON.stringify(s), s.id, s.version - 1],
    );
    return r.rowCount === 1;
  }

  async list(q: SagaQuery = {}): Promise<SagaState[]> {
    const limit = queryLimit(q);
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (cond: string, v: unknown): void => {
      args.push(v);
      where.push(`${cond} $${args.length}`);
    };
    if (q.status !== undefined) add("status =", q.status);
    if (q.name !== undefined) add("name =", q.name);
    if (q.afterId !== undefined) add("id >", q.afterId);
    args.push(limit);
    const sql =
      `SELECT state, version FROM ${this.table}` +
      (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
      ` ORDER BY id LIMIT $${args.length}`;
    return (await this.pool.query<Row>(sql, args)).rows.map(parse);
  }

  async due(nowMs: number, limit: number): Promise<SagaState[]> {
    const r = await this.pool.query<Row>(
      `SELECT state, version FROM ${this.table} WHERE ${ACTIVE} AND due_at <= $1 ORDER BY due_at LIMIT $2`,
      [nowMs, limit],
    );
    return r.rows.map(parse);
  }

  async scheduleTimeout(t: SagaTimeout): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO ${this.timeouts} (id, due_at, done, body) VALUES ($1, $2, false, $3) ON CONFLICT (id) DO NOTHING`,
      [t.id, t.dueAt, JSON.stringify(t)],
    );
    return r.rowCount === 1;
  }

  cancelTimeout(id: string): Promise<boolean> {
    return this.finish(id);
  }

  completeTimeout(id: string): Promise<boolean> {
    return this.finish(id);
  }

  private async finish(id: string): Promise<boolean> {
    const r = await this.pool.query(`UPDATE ${this.timeouts} SET done = true WHERE id = $1 AND NOT done`, [
      id,
    ]);
    return r.rowCount === 1;
  }

  async timeoutPending(id: string): Promise<boolean> {
    const r = await this.pool.query(`SELECT 1 FROM ${this.timeouts} WHERE id = $1 AND NOT done`, [id]);
    return r.rowCount === 1;
  }

  async dueTimeouts(nowMs: number, limit: number): Promise<SagaTimeout[]> {
    const r = await this.pool.query<{ body: SagaTimeout }>(
      `SELECT body FROM ${this.timeouts} WHERE NOT done AND due_at <= $1 ORDER BY due_at LIMIT $2`,
      [nowMs, limit],
    );
    return r.rows.map((row) => row.body);
  }

  async purgeTimeouts(beforeMs: number): Promise<number> {
    const r = await this.pool.query(`DELETE FROM ${this.timeouts} WHERE done AND due_at < $1`, [beforeMs]);
    return r.rowCount ?? 0;
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }
}

/** Saga state on a pool the caller owns, or a new pool for a connection string. Creates the tables. */
export async function postgresSagaStore(
  poolOrUrl: Pool | string,
  options: PostgresSagaStoreOptions = {},
): Promise<PostgresSagaStore> {
  const table = sqlIdent("postgresSagaStore", options.table ?? "spindle_sagas");
  const pool = await pgPool(poolOrUrl);
  const ddl =
    `CREATE TABLE IF NOT EXISTS ${table} (id text COLLATE "C" PRIMARY KEY, name text NOT NULL, status text NOT NULL, ` +
    "version bigint NOT NULL, due_at bigint, updated_ms bigint NOT NULL, state jsonb NOT NULL);" +
    `CREATE INDEX IF NOT EXISTS ${table}_status ON ${table} (status, id);` +
    `CREATE INDEX IF NOT EXISTS ${table}_due ON ${table} (due_at) WHERE ${ACTIVE};` +
    `CREATE TABLE IF NOT EXISTS ${table}_timeouts (id text PRIMARY KEY, due_at bigint NOT NULL, ` +
    "done boolean NOT NULL, body jsonb NOT NULL);" +
    `CREATE INDEX IF NOT EXISTS ${table}_timeouts_due ON ${table}_timeouts (due_at) WHERE NOT done;`;
  // two processes creating the same table at once: one fails on the catalog's unique index; try again
  await pool.query(ddl).catch(() => pool.query(ddl));
  return new PostgresSagaStore(pool, table, typeof poolOrUrl === "string");
}
