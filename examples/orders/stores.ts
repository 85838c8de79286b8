// The SDK's stores for one service, on its own database handle: the outbox, the inbox, the event store
// and the projection store, SQLite or PostgreSQL by the run's configuration. Invariant: a service's
// event store shares the service's connection, so an append joins the service's own transaction.

import {
  type EventStore,
  type InboxStore,
  type OutboxMessage,
  type OutboxRelay,
  type ProjectionStore,
  type Publisher,
  postgresEventStore,
  postgresInbox,
  postgresOutbox,
  postgresProjectionStore,
  sqliteEventStore,
  sqliteInbox,
  sqliteOutbox,
  sqliteProjectionStore,
} from "@spindle/sdk";
import type BetterSqlite3 from "better-sqlite3";
import type { Pool, PoolClient } from "pg";
import type { Config } from "./config.ts";
import type { Db, Tx } from "./db.ts";
import type { Tables } from "./schema.ts";

/** The transactional outbox, whichever the database. */
export interface Outbox {
  /** Adds `message` in the transaction `tx` (committed with the caller's writes, or not at all). */
  add(tx: Tx, message: OutboxMessage): Promise<void>;
  relay(bus: Publisher): OutboxRelay;
}

export async function openOutbox(db: Db, t: Tables): Promise<Outbox> {
  if (db.kind === "sqlite") {
    const outbox = await sqliteOutbox(db.handle as BetterSqlite3.Database, { table: t.outbox });
    return {
      add: async (tx, m) => {
        outbox.add(tx.raw as BetterSqlite3.Database, m);
      },
      relay: (bus) => outbox.relay(bus, { onError: (e) => console.error("orders: relay:", e) }),
    };
  }
  const outbox = await postgresOutbox(db.handle as Pool, { table: t.outbox });
  return {
    add: async (tx, m) => {
      await outbox.add(tx.raw as PoolClient, m);
    },
    relay: (bus) => outbox.relay(bus, { onError: (e) => console.error("orders: relay:", e) }),
  };
}

/**
 * An inbox on the service's pool (PostgreSQL) or its connection (SQLite), where each run waits its turn
 * behind the service's own transactions: a second connection in this process would block the event
 * loop on the file's lock while the first one waits for an await.
 */
export async function openInbox(
  db: Db,
  t: Tables,
  options: { transactional?: boolean } = {},
): Promise<InboxStore> {
  if (db.kind === "postgres") return postgresInbox(db.handle as Pool, { table: t.inbox });
  return serialized(
    db,
    await sqliteInbox(db.handle as BetterSqlite3.Database, { table: t.inbox, ...options }),
  );
}

/**
 * `store` with every method call queued behind the connection's transactions (SQLite). A store's
 * statement run while a service's transaction is open on the shared connection would join that
 * transaction; a connection of its own would block the event loop on the file's lock instead.
 */
export function serialized<S extends object>(db: Db, store: S): S {
  return new Proxy(store, {
    get(target, key) {
      const v = Reflect.get(target, key, target) as unknown;
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => db.serialize(() => Promise.resolve(v.apply(target, args)));
    },
  });
}

/** The event store on the service's own handle (append with `tx: tx.raw` inside `db.tx`). */
export async function openEventStore(db: Db, t: Tables): Promise<EventStore<unknown>> {
  const store =
    db.kind === "sqlite"
      ? await sqliteEventStore(db.handle as BetterSqlite3.Database, { table: t.events })
      : await postgresEventStore(db.handle as Pool, { table: t.events });
  return store as unknown as EventStore<unknown>;
}

/** Read-model transactions on a connection of their own (SQLite) or the service's pool. */
export async function openProjectionStore(
  db: Db,
  config: Config,
  t: Tables,
): Promise<ProjectionStore<unknown>> {
  const store =
    config.database.kind === "sqlite"
      ? await sqliteProjectionStore(config.database.file, { table: t.projections })
      : await postgresProjectionStore(db.handle as Pool, { table: t.projections });
  return store as unknown as ProjectionStore<unknown>;
}
