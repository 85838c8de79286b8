// The event store on SQLite (better-sqlite3 12, loaded on first use). SQLite has one writer at a time, so
// an append — read the stream's version, check it, insert — runs inside one write transaction (the
// caller's, or BEGIN IMMEDIATE of its own) and positions are commit order. Invariant: every statement
// runs synchronously on the connection, so the store's own appends never interleave with another.

import type BetterSqlite3 from "better-sqlite3";
import { type Clock, systemClock } from "../lib/clock.ts";
import { sqlIdent, sqliteDb } from "../lib/sql.ts";
import { sqliteWatch } from "../lib/sqlite-watch.ts";
import type { SqliteOutbox } from "../outbox/sqlite-outbox.ts";
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
  type NewEvent,
  outboxMessages,
  type PreparedEvent,
  prepareEvents,
  type ReadAllOptions,
  type ReadStreamOptions,
  type Snapshot,
  type StoredEvent,
  upcastStored,
} from "./event-store.ts";
import { type BatchHandler, CatchUpSubscription, type SubscriptionSource } from "./subscription.ts";

type Database = BetterSqlite3.Database;

export interface SqliteEventStoreOptions extends EventStoreOptions {
  /** Events table; `<table>_snapshots` beside it. Default `spindle_events`. */
  readonly table?: string;
  readonly outbox?: SqliteOutbox;
  readonly outboxOptions?: EventOutboxOptions;
  readonly clock?: Clock;
  /** How often subscriptions look for other connections' commits; default 25 ms. */
  readonly watchMs?: number;
}

interface EventRow {
  id: string;
  stream_id: string;
  version: number;
  position: number;
  type: string;
  schema_version: number;
  data: string;
  metadata: string;
  created_ms: number;
}

const COLUMNS = "id, stream_id, version, position, type, schema_version, data, metadata, created_ms";

export class SqliteEventStore implements EventStore<Database> {
  private readonly clock: Clock;
  private readonly wakers = new Set<() => void>();
  private readonly snapshots: string;

  constructor(
    readonly db: Database,
    readonly table: string,
    private readonly ownsDb: boolean,
    private readonly options: SqliteEventStoreOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.snapshots = `${table}_snapshots`;
  }

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions<Database> = {},
  ): Promise<AppendResult> {
    const expected = options.expectedVersion ?? "any";
    checkExpectedArg(expected);
    const prepared = prepareEvents(streamId, events, this.options.upcasters);
    const tx = options.tx;
    let result: AppendResult;
    if (tx !== undefined) {
      if (!tx.inTransaction)
        throw new TypeError("append: options.tx must be a connection inside a transaction");
      result = this.appendOn(tx, streamId, prepared, expected);
    } else {
      result = this.db.transaction(() => this.appendOn(this.db, streamId, prepared, expected)).immediate();
    }
    if (result.events.length > 0) for (const w of this.wakers) w();
    return result;
  }

  private appendOn(
    db: Database,
    streamId: string,
    prepared: readonly PreparedEvent[],
    expected: AppendOptions<Database>["expectedVersion"] & {},
  ): AppendResult {
    const actual = this.versionOn(db, streamId);
    checkExpected(streamId, expected, actual);
    const insert = db.prepare(
      `INSERT INTO ${this.table} (stream_id, version, id, type, schema_version, data, metadata, created_ms) ` +
        `VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${COLUMNS}`,
    );
    const now = this.clock.nowMs();
    const stored = prepared.map((p, i) =>
      toEvent(
        insert.get(
          streamId,
          actual + i + 1,
          p.id,
          p.type,
          p.schemaVersion,
          p.data,
          p.metadata,
          now,
        ) as EventRow,
      ),
    );
    const outbox = this.options.outbox;
    if (outbox !== undefined && stored.length > 0) {
      outbox.addAll(db, outboxMessages(stored, this.options.outboxOptions ?? { topic: this.table }));
    }
    return {
      nextExpectedVersion: actual + stored.length,
      events: stored.map((e) => upcastStored(e, this.options.upcasters)),
    };
  }

  private versionOn(db: Database, streamId: string): number {
    const r = db.prepare(`SELECT max(version) AS v FROM ${this.table} WHERE stream_id = ?`).get(streamId) as {
      v: number | null;
    };
    return r.v ?? 0;
  }

  async streamVersion(streamId: string): Promise<number> {
    return this.versionOn(this.db, streamId);
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const rows = this.db
      .prepare(
        `SELECT ${COLUMNS} FROM ${this.table} WHERE stream_id = ? AND version >= ? ORDER BY version LIMIT ?`,
      )
      .all(streamId, Math.max(1, options.fromVersion ?? 1), options.maxCount ?? -1) as EventRow[];
    return rows.map((r) => upcastStored(toEvent(r), this.options.upcasters));
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const after = options.after === undefined || options.after === "" ? 0 : Number(options.after);
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new TypeError(`readAll: "${options.after}" is not a checkpoint of a SQLite event store`);
    }
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM ${this.table} WHERE position > ? ORDER BY position LIMIT ?`)
      .all(after, options.limit ?? 1000) as EventRow[];
    return rows.map((r) => upcastStored(toEvent(r), this.options.upcasters));
  }

  async head(): Promise<string> {
    const r = this.db.prepare(`SELECT max(position) AS p FROM ${this.table}`).get() as { p: number | null };
    return r.p === null ? "" : String(r.p);
  }

  /** What one subscription reads through: this connection, woken by its appends and other commits. */
  private source(): SubscriptionSource {
    let wake = (): void => {};
    return {
      readAll: async (o) => {
        // a transaction open on this connection would show its uncommitted events: look again soon
        if (!this.db.inTransaction) return this.readAll(o);
        this.clock.setTimer(10, () => wake());
        return [];
      },
      head: () => this.head(),
      watch: (onWake) => {
        wake = onWake;
        // appends on this connection wake it directly; other connections' commits change data_version
        this.wakers.add(onWake);
        const w = sqliteWatch(this.db, onWake, this.clock, this.options.watchMs ?? 25);
        return {
          close: () => {
            this.wakers.delete(onWake);
            w.close();
          },
        };
      },
    };
  }

  subscribe(handler: EventHandler, options: EventSubscribeOptions = {}): CatchUpSubscription {
    return new CatchUpSubscription(this.source(), handler, options, this.clock);
  }

  subscribeBatches(handler: BatchHandler, options: EventSubscribeOptions = {}): CatchUpSubscription {
    return new CatchUpSubscription(this.source(), { batch: handler }, options, this.clock);
  }

  async countAfter(after?: string): Promise<number> {
    const from = after === undefined || after === "" ? 0 : Number(after);
    return (
      this.db.prepare(`SELECT count(*) AS n FROM ${this.table} WHERE position > ?`).get(from) as { n: number }
    ).n;
  }

  async loadSnapshot<S>(
    streamId: string,
    options: { schemaVersion?: number } = {},
  ): Promise<Snapshot<S> | undefined> {
    const r = this.db
      .prepare(
        `SELECT version, state, schema_version FROM ${this.snapshots} WHERE stream_id = ? AND schema_version = ?`,
      )
      .get(streamId, options.schemaVersion ?? 1) as
      | { version: number; state: string; schema_version: number }
      | undefined;
    return r === undefined
      ? undefined
      : { version: r.version, state: JSON.parse(r.state) as S, schemaVersion: r.schema_version };
  }

  async saveSnapshot<S>(
    streamId: string,
    snapshot: Snapshot<S>,
    options: { tx?: Database } = {},
  ): Promise<void> {
    (options.tx ?? this.db)
      .prepare(
        `INSERT INTO ${this.snapshots} (stream_id, version, schema_version, state, created_ms) VALUES (?, ?, ?, ?, ?) ` +
          "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, schema_version = excluded.schema_version, " +
          `state = excluded.state, created_ms = excluded.created_ms WHERE ${this.snapshots}.version <= excluded.version`,
      )
      .run(
        streamId,
        snapshot.version,
        snapshot.schemaVersion ?? 1,
        JSON.stringify(snapshot.state),
        this.clock.nowMs(),
      );
  }

  async close(): Promise<void> {
    if (this.ownsDb) this.db.close();
  }
}

function toEvent(r: EventRow): StoredEvent {
  return {
    id: r.id,
    streamId: r.stream_id,
    version: r.version,
    position: r.position,
    checkpoint: String(r.position),
    type: r.type,
    schemaVersion: r.schema_version,
    data: JSON.parse(r.data),
    metadata: JSON.parse(r.metadata),
    createdMs: r.created_ms,
  };
}

function ddl(t: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${t} (position INTEGER PRIMARY KEY AUTOINCREMENT, stream_id TEXT NOT NULL, ` +
    "version INTEGER NOT NULL, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, schema_version INTEGER NOT NULL, " +
    "data TEXT NOT NULL, metadata TEXT NOT NULL, created_ms INTEGER NOT NULL, UNIQUE (stream_id, version)); " +
    `CREATE TABLE IF NOT EXISTS ${t}_snapshots (stream_id TEXT PRIMARY KEY, version INTEGER NOT NULL, ` +
    "schema_version INTEGER NOT NULL, state TEXT NOT NULL, created_ms INTEGER NOT NULL) WITHOUT ROWID;"
  );
}

/**
 * An event store in the SQLite file `path` (opened here, WAL mode) or on a connection the caller owns
 * (pass the same connection as `tx` to append inside the caller's own transaction). Creates its tables.
 */
export async function sqliteEventStore(
  pathOrDb: string | Database,
  options: SqliteEventStoreOptions = {},
): Promise<SqliteEventStore> {
  const table = sqlIdent("sqliteEventStore", options.table ?? "spindle_events");
  if (options.outbox !== undefined && options.outboxOptions === undefined) {
    throw new TypeError("sqliteEventStore: with an outbox, say where events go: outboxOptions: { topic }");
  }
  const db = await sqliteDb(pathOrDb, 5000);
  db.exec(ddl(table));
  return new SqliteEventStore(db, table, typeof pathOrDb === "string", options);
}
