// The transactional outbox on PostgreSQL (pg, loaded on first use): `add` inserts rows with the caller's
// client inside the caller's transaction and NOTIFYs (delivered at commit); relays claim batches with
// FOR UPDATE SKIP LOCKED inside a transaction held while they publish. Invariant: a claimed row is
// marked sent in the claim's transaction only after its publish was confirmed, so a relay that dies
// mid-batch rolls back its marks and the rows go out again (duplicates, never a loss).

import type { Pool } from "pg";
import { type Clock, systemClock } from "../lib/clock.ts";
import { pgListen } from "../lib/pg-listen.ts";
import { PgNotifier } from "../lib/pg-notifier.ts";
import { pgPool, pgTransaction, sqlIdent } from "../lib/sql.ts";
import {
  type ClaimResult,
  type LayoutColumns,
  layoutColumns,
  type OutboxBacklog,
  type OutboxLayout,
  type OutboxMessage,
  type OutboxRow,
  type RelayStore,
  toRecord,
} from "./outbox.ts";
import { OutboxRelay, type Publisher, type RelayOptions, reportRelayError } from "./relay.ts";

/** Anything that runs a query: the pg client of the caller's transaction (PoolClient, Client). */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<unknown>;
}

export interface PostgresOutboxOptions {
  /** Default `spindle_outbox`; created if missing, with its indexes. */
  readonly table?: string;
  readonly layout?: OutboxLayout;
}

interface PgRow {
  seq: string;
  id: string;
  topic: string;
  key: string | null;
  type: string;
  payload: unknown;
  metadata: OutboxRow["metadata"];
  created_ms: number;
}

export class PostgresOutbox {
  private readonly insert: string;
  private readonly insertQuiet: string;
  private readonly notifier: PgNotifier;

  constructor(
    readonly pool: Pool,
    readonly table: string,
    private readonly cols: LayoutColumns,
    private readonly ownsPool: boolean,
  ) {
    const idType = cols.uuidIds ? "uuid" : "text";
    // ORDER BY ord: rows get their seq in the order given
    this.insertQuiet =
      `INSERT INTO ${table} (id, ${cols.topic}, ${cols.key}, type, payload, metadata) ` +
      "SELECT id, topic, key, type, payload, metadata FROM unnest(" +
      `$1::${idType}[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[]) WITH ORDINALITY ` +
      "AS m(id, topic, key, type, payload, metadata, ord) ORDER BY ord";
    // the NOTIFY is delivered when the caller commits
    this.insert = `WITH ins AS (${this.insertQuiet} RETURNING 1) SELECT pg_notify('${table}', '') FROM ins LIMIT 1`;
    this.notifier = new PgNotifier(pool, table, reportRelayError);
  }

  /** Adds `message` in the transaction `tx` is in (a pg client after BEGIN); resolves with its id. */
  async add(tx: PgQueryable, message: OutboxMessage): Promise<string> {
    const [id] = await this.addAll(tx, [message]);
    return id as string;
  }

  /**
   * Adds several messages in one statement, in this order; resolves with their ids. The statement NOTIFYs
   * the relays at commit, which makes PostgreSQL commit such transactions one at a time; with
   * `notify: false` the caller calls `notifyCommitted()` after its commit instead (the event store does).
   */
  async addAll(
    tx: PgQueryable,
    messages: readonly OutboxMessage[],
    options: { notify?: boolean } = {},
  ): Promise<string[]> {
    const records = messages.map((m) => toRecord(m, this.cols));
    if (records.length === 0) return [];
    await tx.query(options.notify === false ? this.insertQuiet : this.insert, [
      records.map((r) => r.id),
      records.map((r) => r.topic),
      records.map((r) => r.key),
      records.map((r) => r.type),
      records.map((r) => r.payload),
      records.map((r) => r.metadata),
    ]);
    return records.map((r) => r.id);
  }

  /** Wakes the relays for rows added with `notify: false` and committed since (coalesced, not awaited). */
  notifyCommitted(): void {
    this.notifier.notify();
  }

  /** Starts a relay publishing this outbox's committed rows through `bus`. Several may run at once. */
  relay(bus: Publisher, options: RelayOptions = {}): OutboxRelay {
    const store = new PgRelayStore(
      this.pool,
      this.table,
      this.cols,
      (options.retentionMs ?? 0) > 0,
      options.clock ?? systemClock,
      options.onError ?? reportRelayError,
    );
    return new OutboxRelay(store, bus, options);
  }

  async close(): Promise<void> {
    await this.notifier.flush();
    if (this.ownsPool) await this.pool.end();
  }
}

/**
 * Opens a claim's transaction. Without a sort the planner must walk the pending index in seq order and
 * stop after the batch: an outbox table churns faster than autovacuum analyzes it, and with its stale
 * estimate (a few rows) the planner read every pending row, sorted them and kept the first batch, so a
 * backlog of n rows cost each claim O(n) and a drain O(n²) — 23 ms a claim at 10,000 rows.
 * The marks commit without waiting for the WAL flush: a database crash can forget the last few marks,
 * and those rows are published again — a duplicate, which at-least-once allows, never a loss — while
 * the relay no longer waits for a second fsync (the broker's confirm is the first) on every batch.
 */
export const CLAIM_BEGIN = "BEGIN; SET LOCAL enable_sort = off; SET LOCAL synchronous_commit = off";

/** The claim: the oldest pending rows not locked by another relay. */
export function claimSql(table: string, cols: LayoutColumns): string {
  return (
    `SELECT seq, id::text AS id, ${cols.topic} AS topic, ${cols.key} AS key, type, payload, metadata, ` +
    `(extract(epoch FROM created_at) * 1000)::float8 AS created_ms FROM ${table} ` +
    "WHERE sent_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED"
  );
}

/**
 * Of the claimed rows ($1 seqs, $2 keys), those whose key has an earlier pending row outside the claim:
 * another relay holds it. A scalar subquery runs once per claimed row on the (key, seq) index; as an
 * EXISTS the planner turned it into a hash join over every pending row.
 */
export function blockedSql(table: string, cols: LayoutColumns): string {
  return (
    "SELECT o.seq FROM unnest($1::bigint[], $2::text[]) AS o(seq, key) WHERE o.key IS NOT NULL AND " +
    `(SELECT p.seq FROM ${table} p WHERE p.${cols.key} = o.key AND p.sent_at IS NULL AND p.seq < o.seq ` +
    "AND NOT (p.seq = ANY($1::bigint[])) ORDER BY p.seq LIMIT 1) IS NOT NULL"
  );
}

class PgRelayStore implements RelayStore {
  private readonly select: string;
  private readonly blocked: string;

  constructor(
    private readonly pool: Pool,
    private readonly table: string,
    cols: LayoutColumns,
    private readonly keepSent: boolean,
    private readonly clock: Clock,
    private readonly onError: (e: unknown) => void,
  ) {
    this.select = claimSql(table, cols);
    this.blocked = blockedSql(table, cols);
  }

  async claim(
    limit: number,
    publish: (rows: readonly OutboxRow[]) => Promise<number[]>,
  ): Promise<ClaimResult> {
    return pgTransaction(
      this.pool,
      async (client) => {
        const rows = (await client.query<PgRow>(this.select, [limit])).rows;
        if (rows.length === 0) return { claimed: 0, sent: 0, heldBack: 0 };
        const seqs = rows.map((r) => r.seq);
        const held = new Set(
          (await client.query<{ seq: string }>(this.blocked, [seqs, rows.map((r) => r.key)])).rows.map(
            (r) => r.seq,
          ),
        );
        const mine = rows.filter((r) => !held.has(r.seq)).map(toRow);
        const sent = await publish(mine);
        if (sent.length > 0) {
          await client.query(
            this.keepSent
              ? `UPDATE ${this.table} SET sent_at = clock_timestamp() WHERE seq = ANY($1::bigint[])`
              : `DELETE FROM ${this.table} WHERE seq = ANY($1::bigint[])`,
            [sent],
          );
        }
        return { claimed: mine.length, sent: sent.length, heldBack: held.size };
      },
      CLAIM_BEGIN,
    );
  }

  async purgeSent(beforeMs: number): Promise<number> {
    const r = await this.pool.query(
      `DELETE FROM ${this.table} WHERE sent_at IS NOT NULL AND sent_at < to_timestamp($1 / 1000.0)`,
      [beforeMs],
    );
    return r.rowCount ?? 0;
  }

  async backlog(): Promise<OutboxBacklog> {
    const r = await this.pool.query<{ n: number; age: number }>(
      "SELECT count(*)::int AS n, " +
        "COALESCE(extract(epoch FROM clock_timestamp() - min(created_at)) * 1000, 0)::float8 AS age " +
        `FROM ${this.table} WHERE sent_at IS NULL`,
    );
    const row = r.rows[0] as { n: number; age: number };
    return { pending: row.n, oldestAgeMs: Math.max(0, row.age) };
  }

  watch(onWake: () => void): { close(): Promise<void> } {
    return pgListen(this.pool, this.table, onWake, this.clock, this.onError);
  }

  async close(): Promise<void> {}
}

function toRow(r: PgRow): OutboxRow {
  return {
    seq: Number(r.seq),
    id: r.id,
    topic: r.topic,
    key: r.key ?? undefined,
    type: r.type,
    data: r.payload,
    metadata: r.metadata,
    createdMs: r.created_ms,
  };
}

function ddl(table: string, cols: LayoutColumns): string {
  const head = cols.uuidIds
    ? `id uuid PRIMARY KEY, aggregatetype varchar(255) NOT NULL, aggregateid varchar(255) NOT NULL, ` +
      "type varchar(255) NOT NULL, payload jsonb, seq bigserial NOT NULL UNIQUE"
    : "seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, topic text NOT NULL, key text, " +
      "type text NOT NULL, payload jsonb NOT NULL";
  return (
    `CREATE TABLE IF NOT EXISTS ${table} (${head}, metadata jsonb NOT NULL DEFAULT '{}', ` +
    "created_at timestamptz NOT NULL DEFAULT clock_timestamp(), sent_at timestamptz); " +
    `CREATE INDEX IF NOT EXISTS ${table}_pending ON ${table} (seq) WHERE sent_at IS NULL; ` +
    `CREATE INDEX IF NOT EXISTS ${table}_pending_key ON ${table} (${cols.key}, seq) WHERE sent_at IS NULL; ` +
    `CREATE INDEX IF NOT EXISTS ${table}_sent ON ${table} (sent_at) WHERE sent_at IS NOT NULL`
  );
}

/**
 * An outbox in PostgreSQL on a pool the caller owns (so `add` can run on the client of the caller's
 * transaction and relays share the pool) or on a new pool for a connection string. Creates the table.
 */
export async function postgresOutbox(
  poolOrUrl: Pool | string,
  options: PostgresOutboxOptions = {},
): Promise<PostgresOutbox> {
  const table = sqlIdent("postgresOutbox", options.table ?? "spindle_outbox");
  const cols = layoutColumns(options.layout);
  const pool = await pgPool(poolOrUrl);
  const sql = ddl(table, cols);
  // two processes creating the table at once: one of them gets a unique violation on the catalog
  await pool.query(sql).catch(() => pool.query(sql));
  return new PostgresOutbox(pool, table, cols, typeof poolOrUrl === "string");
}
