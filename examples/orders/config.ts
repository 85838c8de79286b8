// The example's settings, from the environment only: which broker and database, and the names this run
// uses. Invariant: every topic and table name carries the run id, so runs on a shared RabbitMQ, NATS or
// PostgreSQL never see each other's messages or rows.

import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Config {
  /** Names this run: letters and digits only (valid in every broker's and database's names). */
  readonly runId: string;
  readonly busUrl: string;
  /** postgres://… or the SQLite file. */
  readonly database: { kind: "postgres"; url: string } | { kind: "sqlite"; file: string };
  /** Where the embedded broker and the SQLite file live (a temp dir unless ORDERS_DIR is set). */
  readonly dir: string;
  readonly topics: {
    readonly orders: string;
    readonly inventory: string;
    readonly payment: string;
    readonly partnerFeed: string;
  };
  /** Table-name prefix. */
  readonly tables: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const runId = env.ORDERS_RUN_ID ?? `r${process.pid.toString(36)}${randomBytes(3).toString("hex")}`;
  if (!/^[a-z][a-z0-9]{0,30}$/u.test(runId)) {
    throw new Error(`ORDERS_RUN_ID "${runId}" must be lower-case letters and digits, starting with a letter`);
  }
  const dir = env.ORDERS_DIR ?? mkdtempSync(join(tmpdir(), "spindle-orders-"));
  const busUrl = env.BUS_URL ?? `embedded://${join(dir, "broker")}?fsync=never`;
  const dbUrl = env.DATABASE_URL;
  if (dbUrl !== undefined && !/^postgres(ql)?:\/\//u.test(dbUrl)) {
    throw new Error(`DATABASE_URL "${dbUrl}" must be a postgres:// URL (unset it for SQLite)`);
  }
  const database =
    dbUrl === undefined
      ? { kind: "sqlite" as const, file: join(dir, "orders.db") }
      : { kind: "postgres" as const, url: withUser(dbUrl, env.PGUSER) };
  const t = `${runId}.`;
  return {
    runId,
    busUrl,
    database,
    dir,
    topics: {
      orders: `${t}orders`,
      inventory: `${t}inventory.commands`,
      payment: `${t}payment.commands`,
      partnerFeed: `${t}partner.orders`,
    },
    tables: `${runId}_`,
  };
}

/** postgres://host/db names no role: use PGUSER, else `postgres` (pg would send none and be refused). */
function withUser(url: string, pgUser: string | undefined): string {
  const u = new URL(url);
  if (u.username === "") u.username = pgUser ?? "postgres";
  return u.toString();
}
