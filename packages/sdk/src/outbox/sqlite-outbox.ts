// The transactional outbox on SQLite (better-sqlite3 12, loaded on first use): `add` inserts with the
// caller's connection inside the caller's transaction (synchronously, so it fits db.transaction(fn));
// each relay reads through a connection of its own and leases the rows it publishes. Invariant: a row
// is deleted or stamped sent only by the relay that leased it, after its publish was confirmed; a relay
// that dies leaves leases that expire, and the rows go out again (duplicates, never a loss).

import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import type BetterSqlite3 from "better-sqlite3";
import { type Clock, systemClock } from "../lib/clock.ts";
import { sqlIdent } from "../lib/sql.ts";
import { sqliteWatch } from "../lib/sqlite-watch.ts";
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
import { OutboxRelay, type Publisher, type RelayOptions } from "./relay.ts";

type Database = BetterSqlite3.Database;
type DatabaseConstructor = typeof BetterSqlite3;

export interface SqliteOutboxOptions {
  /** Default `spindle_outbox`; created if missing. */
  readonly table?: string;
  readonly layout?: OutboxLayout;
  /** Creation time of added rows (epoch ms); Date.now by default. */
  readonly nowMs?: () => number;
}

export interface SqliteRelayOptions extends RelayOptions {
  /** How long a relay's claim on rows lasts; another relay may take them after. Default 30 s. */
  readonly leaseMs?: number;
  /** How often the relay looks for other connections' commits; default 25 ms. */
  readonly watchMs?: number;
}

interface SqliteRow {
  seq: number;
  id: string;
  topic: string;
  key: string | null;
  type: string;
  payload: string;
  metadata: string;
  created_ms: number;
}

export class SqliteOutbox {
  private readonly inserts = new WeakMap<Database, BetterSqlite3.Statement>();
  private readonly nowMs: () => number;

  constructor(
    private readonly Database: DatabaseConstructor,
    readonly path: string,
    readonly table: string,
    private readonly cols: LayoutColumns,
    options: SqliteOutboxOptions,
  ) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Adds `message` on connection `tx` (inside the caller's transaction); returns its id. */
  add(tx: Database, message: OutboxMessage): string {
    return this.addAll(tx, [message])[0] as string;
  }

  /** Adds several messages, in this order; returns their ids. */
  addAll(tx: Database, messages: readonly OutboxMessage[]): string[] {
    const records = messages.map((m) => toRecord(m, this.cols));
    let insert = this.inserts.get(tx);
    if (insert === undefined) {
      insert = tx.prepare(
        `INSERT INTO ${this.table} (id, ${this.cols.topic}, ${this.cols.key}, type, payload, metadata, ` +
          "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
      );
      this.inserts.set(tx, insert);
    }
    const now = this.nowMs();
    for (const r of records) insert.run(r.id, r.topic, r.key, r.type, r.payload, r.metadata, now);
    return records.map((r) => r.id);
  }

  /** Starts a relay on a connection of its own to this outbox's file. Several may run at once. */
  relay(bus: Publisher, options: SqliteRelayOptions = {}): OutboxRelay {
    if (this.path === "" || this.path === ":memory:") {
      throw new TypeError(
        "sqliteOutbox: a relay needs a database file (an in-memory one has no 2nd connection)",
      );
    }
    const db = new this.Database(this.path);
    db.pragma("journal_mode = WAL");
    // never block the event loop waiting for another writer: a busy claim is retried a moment later
    db.pragma("busy_timeout = 0");
    const store = new SqliteRelayStore(db, this.table, this.cols, options, options.clock ?? systemClock);
    return new OutboxRelay(store, bus, options);
  }
}

const isBusy = (e: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/u.test(String((e as { code?: string })?.code));

class SqliteRelayStore implements RelayStore {
  // its leases belong to the relay, so a second claim loop would take the first one's rows
  readonly claimsOneAtATime = true;
  private readonly owner = randomUUID();
  private readonly keepSent: boolean;
  private readonly leaseMs: number;
  private readonly take: (limit: number, nowMs: number) => { rows: SqliteRow[]; heldBack: number };
  private readonly mark: (sent: number[], unsent: number[], nowMs: number) => void;

  constructor(
    private readonly db: Database,
    private readonly table: string,
    cols: LayoutColumns,
    private readonly options: SqliteRelayOptions,
    private readonly clock: Clock,
  ) {
    this.keepSent = (options.retentionMs ?? 0) > 0;
    this.leaseMs = options.leaseMs ?? 30_000;
    const scan = db.prepare<
      [number],
      { seq: number; key: string | null; lease_owner: string | null; lease_until_ms: number | null }
    >(
      `SELECT seq, ${cols.key} AS key, lease_owner, lease_until_ms FROM ${table} ` +
        "WHERE sent_ms IS NULL ORDER BY seq LIMIT ?",
    );
    const lease = db.prepare(
      `UPDATE ${table} SET lease_owner = ?, lease_until_ms = ? WHERE seq IN (SELECT value FROM json_each(?))`,
    );
    const read = db.prepare<[string], SqliteRow>(
      `SELECT seq, id, ${cols.topic} AS topic, ${cols.key} AS key, type, payload, metadata, created_ms ` +
        `FROM ${table} WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq`,
    );
    const take = db.transaction((limit: number, nowMs: number) => {
      const blocked = new Set<string>();
      const chosen: number[] = [];
      let heldBack = 0;
      // rows leased by others count against the scan, so look further than `limit`
      for (const r of scan.all(limit * 4)) {
        const leased =
          r.lease_owner !== null && r.lease_owner !== this.owner && (r.lease_until_ms ?? 0) > nowMs;
        if (leased || (r.key !== null && blocked.has(r.key))) {
          if (r.key !== null) blocked.add(r.key);
          heldBack++;
        } else if (chosen.length < limit) chosen.push(r.seq);
      }
      if (chosen.length === 0) return { rows: [], heldBack };
      const ids = JSON.stringify(chosen);
      lease.run(this.owner, nowMs + this.leaseMs, ids);
      return { rows: read.all(ids), heldBack };
    });
    this.take = (limit, nowMs) => take.immediate(limit, nowMs);
    const stamp = db.prepare(
      `UPDATE ${table} SET sent_ms = ?, lease_owner = NULL, lease_until_ms = NULL ` +
        "WHERE lease_owner = ? AND seq IN (SELECT value FROM json_each(?))",
    );
    const remove = db.prepare(
      `DELETE FROM ${table} WHERE lease_owner = ? AND seq IN (SELECT value FROM json_each(?))`,
    );
    const unlease = db.prepare(
      `UPDATE ${table} SET lease_owner = NULL, lease_until_ms = NULL ` +
        "WHERE lease_owner = ? AND seq IN (SELECT value FROM json_each(?))",
    );
    const mark = db.transaction((sent: number[], unsent: number[], nowMs: number) => {
      if (sent.length > 0 && this.keepSent) stamp.run(nowMs, this.owner, JSON.stringify(sent));
      else if (sent.length > 0) remove.run(this.owner, JSON.stringify(sent));
      if (unsent.length > 0) unlease.run(this.owner, JSON.stringify(unsent));
    });
    this.mark = (sent, unsent, nowMs) => mark.immediate(sent, unsent, nowMs);
  }

  async claim(
    limit: number,
    publish: (rows: readonly OutboxRow[]) => Promise<number[]>,
  ): Promise<ClaimResult> {
    let taken: { rows: SqliteRow[]; heldBack: number };
    try {
      taken = this.take(limit, Date.now());
    } catch (e) {
      if (isBusy(e)) return { claimed: 0, sent: 0, heldBack: 0, busy: true };
      throw e;
    }
    if (taken.rows.length === 0) return { claimed: 0, sent: 0, heldBack: taken.heldBack };
    const sent = await publish(taken.rows.map(toRow));
    const sentSet = new Set(sent);
    const unsent = taken.rows.map((r) => r.seq).filter((s) => !sentSet.has(s));
    await this.retryBusy(() => this.mark(sent, unsent, Date.now()));
    return { claimed: taken.rows.length, sent: sent.length, heldBack: taken.heldBack };
  }

  /** Runs a short write, waiting out other writers without blocking the event loop. */
  private async retryBusy(fn: () => void): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        fn();
        return;
      } catch (e) {
        if (!isBusy(e) || attempt >= 500) throw e;
        await delay(10);
      }
    }
  }

  async purgeSent(beforeMs: number): Promise<number> {
    let n = 0;
    await this.retryBusy(() => {
      n = this.db
        .prepare(`DELETE FROM ${this.table} WHERE sent_ms IS NOT NULL AND sent_ms < ?`)
        .run(beforeMs).changes;
    });
    return n;
  }

  async backlog(): Promise<OutboxBacklog> {
    const r = this.db
      .prepare(`SELECT count(*) AS n, min(created_ms) AS oldest FROM ${this.table} WHERE sent_ms IS NULL`)
      .get() as { n: number; oldest: number | null };
    return { pending: r.n, oldestAgeMs: r.oldest === null ? 0 : Math.max(0, Date.now() - r.oldest) };
  }

  watch(onWake: () => void): { close(): void } {
    return sqliteWatch(this.db, onWake, this.clock, this.options.watchMs ?? 25);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function toRow(r: SqliteRow): OutboxRow {
  return {
    seq: r.seq,
    id: r.id,
    topic: r.topic,
    key: r.key ?? undefined,
    type: r.type,
    data: JSON.parse(r.payload),
    metadata: JSON.parse(r.metadata),
    createdMs: r.created_ms,
  };
}

function ddl(table: string, cols: LayoutColumns): string {
  const head = cols.uuidIds
    ? "id TEXT NOT NULL UNIQUE, aggregatetype TEXT NOT NULL, aggregateid TEXT NOT NULL, type TEXT NOT NULL, payload TEXT"
    : "id TEXT NOT NULL UNIQUE, topic TEXT NOT NULL, key TEXT, type TEXT NOT NULL, payload TEXT NOT NULL";
  return (
    `CREATE TABLE IF NOT EXISTS ${table} (seq INTEGER PRIMARY KEY AUTOINCREMENT, ${head}, ` +
    "metadata TEXT NOT NULL DEFAULT '{}', created_ms INTEGER NOT NULL, sent_ms INTEGER, " +
    "lease_owner TEXT, lease_until_ms INTEGER); " +
    `CREATE INDEX IF NOT EXISTS ${table}_pending ON ${table} (seq) WHERE sent_ms IS NULL; ` +
    `CREATE INDEX IF NOT EXISTS ${table}_sent ON ${table} (sent_ms) WHERE sent_ms IS NOT NULL;`
  );
}

/**
 * An outbox in the SQLite file `path` (or the file of connection `db`). Creates the table. Add rows with
 * the application's own connection; relays open connections of their own to the same file.
 */
export async function sqliteOutbox(
  pathOrDb: string | Database,
  options: SqliteOutboxOptions = {},
): Promise<SqliteOutbox> {
  const table = sqlIdent("sqliteOutbox", options.table ?? "spindle_outbox");
  const cols = layoutColumns(options.layout);
  const { default: Database } = await import("better-sqlite3");
  const db = typeof pathOrDb === "string" ? new Database(pathOrDb) : pathOrDb;
  try {
    if (typeof pathOrDb === "string") db.pragma("journal_mode = WAL");
    db.exec(ddl(table, cols));
  } finally {
    if (typeof pathOrDb === "string") db.close();
  }
  return new SqliteOutbox(Database, db.name, table, cols, options);
}
