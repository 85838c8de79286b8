// The example's own tables (the SDK's stores create theirs), named with the run's prefix, and their
// removal at the end of a run on a shared PostgreSQL. Invariant: the same DDL runs on SQLite and
// PostgreSQL (portable types only).

import type { Db } from "./db.ts";

export interface Tables {
  readonly orders: string;
  readonly stock: string;
  readonly reservations: string;
  readonly payments: string;
  readonly emails: string;
  readonly callbacks: string;
  readonly userSummary: string;
  readonly userTransactions: string;
  /** The SDK's stores. */
  readonly outbox: string;
  readonly inbox: string;
  readonly events: string;
  readonly projections: string;
  readonly sagas: string;
}

export function tablesOf(prefix: string): Tables {
  const t = (name: string) => `${prefix}${name}`;
  return {
    orders: t("orders"),
    stock: t("stock"),
    reservations: t("reservations"),
    payments: t("payments"),
    emails: t("emails"),
    callbacks: t("callbacks"),
    userSummary: t("user_summary"),
    userTransactions: t("user_transactions"),
    outbox: t("outbox"),
    inbox: t("inbox"),
    events: t("events"),
    projections: t("projections"),
    sagas: t("sagas"),
  };
}

export async function createTables(db: Db, t: Tables): Promise<void> {
  const ddl = [
    `CREATE TABLE IF NOT EXISTS ${t.orders} (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, sku TEXT NOT NULL,
       qty INTEGER NOT NULL, amount INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT,
       callback_url TEXT, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${t.stock} (sku TEXT PRIMARY KEY, available INTEGER NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${t.reservations} (order_id TEXT PRIMARY KEY, sku TEXT NOT NULL,
       qty INTEGER NOT NULL, released INTEGER NOT NULL DEFAULT 0)`,
    // one row per idempotency key: the reply the payment service gave, committed with the charge
    `CREATE TABLE IF NOT EXISTS ${t.payments} (idempotency_key TEXT PRIMARY KEY, reply TEXT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${t.emails} (message_id TEXT PRIMARY KEY, recipient TEXT NOT NULL,
       subject TEXT NOT NULL, sent_ms BIGINT NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${t.callbacks} (message_id TEXT PRIMARY KEY, url TEXT NOT NULL,
       status INTEGER NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${t.userSummary} (user_id TEXT PRIMARY KEY, name TEXT NOT NULL,
       email TEXT NOT NULL, balance INTEGER NOT NULL, version INTEGER NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS ${t.userTransactions} (event_id TEXT PRIMARY KEY, user_id TEXT NOT NULL,
       kind TEXT NOT NULL, amount INTEGER NOT NULL, order_id TEXT, at_ms BIGINT NOT NULL)`,
  ];
  // two processes creating a table at once: one of them gets a unique violation on PostgreSQL's catalog
  for (const sql of ddl) await db.run(sql).catch(() => db.run(sql));
}

/** Drops every table this run made (PostgreSQL; a SQLite run's file goes with its directory). */
export async function dropTables(db: Db, t: Tables): Promise<void> {
  const sdk = [
    t.outbox,
    t.inbox,
    t.events,
    `${t.events}_streams`,
    `${t.events}_snapshots`,
    t.projections,
    t.sagas,
    `${t.sagas}_timeouts`,
  ];
  const own = [
    t.orders,
    t.stock,
    t.reservations,
    t.payments,
    t.emails,
    t.callbacks,
    t.userSummary,
    t.userTransactions,
  ];
  for (const name of [...own, ...sdk]) await db.run(`DROP TABLE IF EXISTS ${name} CASCADE`);
}
