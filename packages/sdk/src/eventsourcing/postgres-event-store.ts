// The event store on PostgreSQL (pg, loaded on first use). A streams table holds each stream's version
// and the transaction that last wrote it; appends update that row (the row lock orders writers of one
// stream) and insert the events, stamped with their transaction id. Reading all events follows
// (transaction id, position) and stops below the oldest transaction still running
// (pg_snapshot_xmin), so an event that commits late is read late, never skipped. Invariant: within a
// stream, a later version always has a later (transaction id, position): an append from a transaction
// older than the stream's last writer is refused with ConflictError, even with expectedVersion "any" —
// the command handler's retry runs in a new, younger transaction.

import type { Pool } from "pg";
import { ConflictError } from "../errors.ts";
import { type Clock, systemClock } from "../lib/clock.ts";
import { pgListen } from "../lib/pg-listen.ts";
import { PgNotifier } from "../lib/pg-notifier.ts";
import { pgPool, pgTransaction, sqlIdent } from "../lib/sql.ts";
import type { PgQueryable, PostgresOutbox } from "../outbox/postgres-outbox.ts";
import {
  type AppendOptions,
  type AppendResult,
  checkExpected,
  checkExpectedArg,
  type EventHandler,
  type EventOutboxOptions,
  type EventStore,
  type EventStoreOptions,
  type EventSubscribeOptions,
  type ExpectedVersion,
  type NewEvent,
  outboxMessages,
  prepareEvents,
  type ReadAllOptions,
  type ReadStreamOptions,
  type Snapshot,
  type StoredEvent,
  upcastStored,
} from "./event-store.ts";
import { type BatchHandler, CatchUpSubscription, type SubscriptionSource } from "./subscription.ts";

export interface PostgresEventStoreOptions extends EventStoreOptions {
  /** Events table; `<table>_streams` and `<table>_snapshots` beside it. Default `spindle_events`. */
  readonly table?: string;
  /** Adds appended events to this outbox in the append's transaction. */
  readonly outbox?: PostgresOutbox;
  readonly outboxOptions?: EventOutboxOptions;
  readonly clock?: Clock;
  /** Errors of the LISTEN connection; console.error by default. */
  readonly onError?: (e: unknown) => void;
}

interface EventRow {
  id: string;
  stream_id: string;
  version: string;
  position: string;
  tx_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: Record<string, unknown>;
  created_ms: number;
}

const COLUMNS =
  "id, stream_id, version, position, tx_id::text AS tx_id, type, schema_version, data, metadata, " +
  "floor(extract(epoch FROM created_at) * 1000)::float8 AS created_ms";

/** The stream-row statement per expectation; each returns the new version, or no row on a conflict. */
function streamUpdate(s: string, expected: ExpectedVersion): string {
  const younger = `${s}.last_xid <= pg_current_xact_id()`;
  if (expected === 0 || expected === "no-stream") {
    return `INSERT INTO ${s} (stream_id, version, last_xid) VALUES ($1, $2, pg_current_xact_id()) ON CONFLICT DO NOTHING RETURNING version`;
  }
  if (expected === "any") {
    return (
      `INSERT INTO ${s} AS ${s} (stream_id, version, last_xid) VALUES ($1, $2, pg_current_xact_id()) ` +
      `ON CONFLICT (stream_id) DO UPDATE SET version = ${s}.version + EXCLUDED.version, ` +
      `last_xid = EXCLUDED.last_xid WHERE ${younger} RETURNING version`
    );
  }
  const versionCheck = expected === "exists" ? "" : " AND version = $3";
  return (
    `UPDATE ${s} SET version = version + $2, last_xid = pg_current_xact_id() ` +
    `WHERE stream_id = $1${versionCheck} AND ${younger} RETURNING version`
  );
}

export class PostgresEventStore implements EventStore<PgQueryable> {
  private readonly streams: string;
  private readonly snapshots: string;
  private readonly clock: Clock;
  private readonly notifier: PgNotifier;

  constructor(
    readonly pool: Pool,
    readonly table: string,
    private readonly ownsPool: boolean,
    private readonly options: PostgresEventStoreOptions,
  ) {
    this.streams = `${table}_streams`;
    this.snapshots = `${table}_snapshots`;
    this.clock = options.clock ?? systemClock;
    const onError = options.onError ?? ((e: unknown) => console.error("@spindle/sdk: event store:", e));
    this.notifier = new PgNotifier(pool, table, onError);
  }

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions<PgQueryable> = {},
  ): Promise<AppendResult> {
    const expected = options.expectedVersion ?? "any";
    checkExpectedArg(expected);
    const prepared = prepareEvents(streamId, events, this.options.upcasters);
    if (options.tx !== undefined) return this.appendIn(options.tx, streamId, prepared, expected, true);
    // our own transaction: NOTIFY after the commit, so appends on other connections commit beside it
    const r = await pgTransaction(this.pool, (c) => this.appendIn(c, streamId, prepared, expected, false));
    if (r.events.length > 0) {
      this.notifier.notify();
      this.options.outbox?.notifyCommitted();
    }
    return r;
  }

  private async appendIn(
    q: PgQueryable,
    streamId: string,
    prepared: ReturnType<typeof prepareEvents>,
    expected: ExpectedVersion,
    notifyInTx: boolean,
  ): Promise<AppendResult> {
    if (prepared.length === 0) {
      const actual = await this.versionOn(q, streamId);
      checkExpected(streamId, expected, actual);
      return { nextExpectedVersion: actual, events: [] };
    }
    const n = prepared.length;
    const args: unknown[] =
      typeof expected === "number" && expected > 0 ? [streamId, n, expected] : [streamId, n];
    const r = (await q.query(streamUpdate(this.streams, expected), args)) as {
      rows: Array<{ version: string }>;
    };
    const row = r.rows[0];
    if (row === undefined) throw new ConflictError(streamId, expected, await this.versionOn(q, streamId));
    const next = Number(row.version);
    const inserted = (await q.query(
      `WITH ins AS (INSERT INTO ${this.table} (stream_id, version, id, type, schema_version, data, metadata) ` +
        "SELECT $1, $2::bigint + e.ord, e.id, e.type, e.sv, e.data, e.md FROM unnest(" +
        "$3::text[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[]) WITH ORDINALITY AS e(id, type, sv, data, md, ord) " +
        `ORDER BY e.ord RETURNING ${COLUMNS}) ` +
        (notifyInTx
          ? `SELECT ins.* FROM ins, (SELECT pg_notify('${this.table}', '')) AS n ORDER BY ins.version`
          : "SELECT ins.* FROM ins ORDER BY ins.version"),
      [
        streamId,
        next - n,
        prepared.map((p) => p.id),
        prepared.map((p) => p.type),
        prepared.map((p) => p.schemaVersion),
        prepared.map((p) => p.data),
        prepared.map((p) => p.metadata),
      ],
    )) as { rows: EventRow[] };
    const stored = inserted.rows.map(toEvent);
    const outbox = this.options.outbox;
    if (outbox !== undefined) {
      const messages = outboxMessages(stored, this.options.outboxOptions ?? { topic: this.table });
      await outbox.addAll(q, messages, { notify: notifyInTx });
    }
    return { nextExpectedVersion: next, events: stored.map((e) => upcastStored(e, this.options.upcasters)) };
  }

  private async versionOn(q: PgQueryable, streamId: string): Promise<number> {
    const r = (await q.query(`SELECT version FROM ${this.streams} WHERE stream_id = $1`, [streamId])) as {
      rows: Array<{ version: string }>;
    };
    return Number(r.rows[0]?.version ?? 0);
  }

  streamVersion(streamId: string): Promise<number> {
    return this.versionOn(this.pool, streamId);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const r = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM ${this.table} WHERE stream_id = $1 AND version >= $2 ORDER BY version LIMIT $3`,
      [streamId, Math.max(1, options.fromVersion ?? 1), options.maxCount ?? null],
    );
    return r.rows.map((row) => upcastStored(toEvent(row), this.options.upcasters));
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const [xid, position] = parseCheckpoint(options.after);
    const r = await this.pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM ${this.table} WHERE (tx_id, position) > ($1::xid8, $2::bigint) ` +
        "AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY tx_id, position LIMIT $3",
      [xid, position, options.limit ?? 1000],
    );
    return r.rows.map((row) => upcastStored(toEvent(row), this.options.upcasters));
  }

  async head(): Promise<string> {
    const r = await this.pool.query<{ tx_id: string; position: string }>(
      `SELECT tx_id::text AS tx_id, position FROM ${this.table} ` +
        "WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY tx_id DESC, position DESC LIMIT 1",
    );
    const row = r.rows[0];
    return row === undefined ? "" : `${row.tx_id}:${row.position}`;
  }

  private source(): SubscriptionSource {
    const onError = this.options.onError ?? ((e: unknown) => console.error("@spindle/sdk: event store:", e));
    return {
      readAll: (o) => this.readAll(o),
      head: () => this.head(),
      watch: (onWake) => pgListen(this.pool, this.table, onWake, this.clock, onError),
    };
  }

  subscribe(handler: EventHandler, options: EventSubscribeOptions = {}): CatchUpSubscription {
    return new CatchUpSubscription(this.source(), handler, options, this.clock);
  }

  subscribeBatches(handler: BatchHandler, options: EventSubscribeOptions = {}): CatchUpSubscription {
    return new CatchUpSubscription(this.source(), { batch: handler }, options, this.clock);
  }

  async countAfter(after?: string): Promise<number> {
    const [xid, position] = parseCheckpoint(after);
    const r = await this.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${this.table} WHERE (tx_id, position) > ($1::xid8, $2::bigint) ` +
        "AND tx_id < pg_snapshot_xmin(pg_current_snapshot())",
      [xid, position],
    );
    return r.rows[0]?.n ?? 0;
  }

  async loadSnapshot<S>(
    streamId: string,
    options: { schemaVersion?: number } = {},
  ): Promise<Snapshot<S> | undefined> {
    const r = await this.pool.query<{ version: string; state: S; schema_version: number }>(
      `SELECT version, state, schema_version FROM ${this.snapshots} WHERE stream_id = $1 AND schema_version = $2`,
      [streamId, options.schemaVersion ?? 1],
    );
    const row = r.rows[0];
    return row === undefined
      ? undefined
      : { version: Number(row.version), state: row.state, schemaVersion: row.schema_version };
  }

  async saveSnapshot<S>(
    streamId: string,
    snapshot: Snapshot<S>,
    options: { tx?: PgQueryable } = {},
  ): Promise<void> {
    const s = this.snapshots;
    await (options.tx ?? this.pool).query(
      `INSERT INTO ${s} AS ${s} (stream_id, version, schema_version, state) VALUES ($1, $2, $3, $4::jsonb) ` +
        "ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version, schema_version = EXCLUDED.schema_version, " +
        `state = EXCLUDED.state, created_at = now() WHERE ${s}.version <= EXCLUDED.version`,
      [streamId, snapshot.version, snapshot.schemaVersion ?? 1, JSON.stringify(snapshot.state)],
    );
  }

  async close(): Promise<void> {
    await this.notifier.flush();
    if (this.ownsPool) await this.pool.end();
  }
}

function parseCheckpoint(c: string | undefined): [string, string] {
  if (c === undefined || c === "") return ["0", "0"];
  const m = /^(\d{1,20}):(\d{1,19})$/u.exec(c);
  if (m === null) throw new TypeError(`readAll: "${c}" is not a checkpoint of a PostgreSQL event store`);
  return [m[1] as string, m[2] as string];
}

function toEvent(r: EventRow): StoredEvent {
  return {
    id: r.id,
    streamId: r.stream_id,
    version: Number(r.version),
    position: Number(r.position),
    checkpoint: `${r.tx_id}:${r.position}`,
    type: r.type,
    schemaVersion: r.schema_version,
    data: r.data,
    metadata: r.metadata,
    createdMs: r.created_ms,
  };
}

function ddl(t: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${t}_streams (stream_id text PRIMARY KEY, version bigint NOT NULL, ` +
    "last_xid xid8 NOT NULL); " +
    `CREATE TABLE IF NOT EXISTS ${t} (position bigserial PRIMARY KEY, ` +
    "tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(), stream_id text NOT NULL, version bigint NOT NULL, " +
    "id text NOT NULL UNIQUE, type text NOT NULL, schema_version int NOT NULL, data jsonb NOT NULL, " +
    "metadata jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (stream_id, version)); " +
    `CREATE INDEX IF NOT EXISTS ${t}_global ON ${t} (tx_id, position); ` +
    `CREATE TABLE IF NOT EXISTS ${t}_snapshots (stream_id text PRIMARY KEY, version bigint NOT NULL, ` +
    "schema_version int NOT NULL, state jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
  );
}

/**
 * An event store in PostgreSQL on a pool the caller owns (so appends can join the caller's transaction)
 * or on a new pool for a connection string. Creates its tables.
 */
export async function postgresEventStore(
  poolOrUrl: Pool | string,
  options: PostgresEventStoreOptions = {},
): Promise<PostgresEventStore> {
  const table = sqlIdent("postgresEventStore", options.table ?? "spindle_events");
  if (options.outbox !== undefined && options.outboxOptions === undefined) {
    throw new TypeError("postgresEventStore: with an outbox, say where events go: outboxOptions: { topic }");
  }
  const pool = await pgPool(poolOrUrl);
  const sql = ddl(table);
  await pool.query(sql).catch(() => pool.query(sql));
  return new PostgresEventStore(pool, table, typeof poolOrUrl === "string", options);
}
