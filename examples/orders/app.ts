// Composition of the order system in one process: the bus, the database, the outbox relay, the order
// API, the saga orchestrator and the services that consume (inventory, payment — unless it runs in a
// process of its own — email, callbacks, the partner feed), and the CQRS projections. Invariant: close()
// stops what consumes before what it consumes from (subscriptions, then relay, then bus and database).

import {
  type Bus,
  commandHandler,
  connect,
  type EventStore,
  type OutboxRelay,
  type Projector,
  postgresSagaStore,
  project,
  type SagaOrchestrator,
  type Subscription,
  sagaOrchestrator,
  sqliteSagaStore,
} from "@spindle/sdk";
import type BetterSqlite3 from "better-sqlite3";
import type { Pool } from "pg";
import { type Api, startApi } from "./api.ts";
import type { Config } from "./config.ts";
import { type Db, openDb } from "./db.ts";
import { placeOrderSaga } from "./order-saga.ts";
import { type OrderCreated, OrderService } from "./orders.ts";
import { createTables, type Tables, tablesOf } from "./schema.ts";
import { startCallbacks } from "./services/callbacks.ts";
import { startEmail } from "./services/email.ts";
import { type Intake, startIntake } from "./services/intake.ts";
import { startInventory } from "./services/inventory.ts";
import { startPayment } from "./services/payment.ts";
import { openEventStore, openInbox, openOutbox, openProjectionStore, serialized } from "./stores.ts";
import { streamOf, userDecider, userSummaryProjection, userTransactionsProjection } from "./wallet.ts";

export interface App {
  readonly config: Config;
  readonly tables: Tables;
  readonly bus: Bus;
  readonly db: Db;
  readonly orders: OrderService;
  readonly events: EventStore<unknown>;
  readonly sagas: SagaOrchestrator;
  readonly api: Api;
  readonly intake: Intake;
  readonly projectors: readonly Projector<unknown>[];
  readonly subscriptions: Readonly<Record<string, Subscription>>;
  /** Creates a user with a starting balance (USER_CREATED, BALANCE_ADDED). */
  createUser(userId: string, name: string, balance: number): Promise<void>;
  close(): Promise<void>;
}

export interface AppOptions {
  /** Run the payment service here (default) or leave it to a process of its own. */
  readonly inProcessPayment?: boolean;
}

export async function startApp(config: Config, o: AppOptions = {}): Promise<App> {
  const t = tablesOf(config.tables);
  const db = await openDb(config);
  await createTables(db, t);
  const bus = await connect(config.busUrl, { onError: (e, where) => console.error(`orders: ${where}:`, e) });
  const outbox = await openOutbox(db, t);
  const orders = new OrderService(db, outbox, t, config.topics.orders);
  const events = await openEventStore(db, t);
  const inbox = await openInbox(db, t);
  const callbackInbox = await openInbox(db, t, { transactional: false });

  const sagaStore =
    db.kind === "sqlite"
      ? serialized(db, await sqliteSagaStore(db.handle as BetterSqlite3.Database, { table: t.sagas }))
      : await postgresSagaStore(db.handle as Pool, { table: t.sagas });
  const sagas = await sagaOrchestrator(bus, {
    name: config.runId,
    store: sagaStore,
    sagas: [placeOrderSaga(orders, config.topics)],
    onError: (e, where) => console.error(`orders: saga ${where}:`, e),
  });

  const subscriptions: Record<string, Subscription> = {};
  subscriptions.inventory = await startInventory(bus, db, t, config.topics.inventory);
  if (o.inProcessPayment !== false) {
    subscriptions.payment = await startPayment(bus, db, events, t, config.topics.payment);
  }
  subscriptions.email = await startEmail(bus, db, inbox, t, config.topics.orders);
  subscriptions.callbacks = await startCallbacks(bus, db, callbackInbox, t, config.topics.orders);
  // OrderCreated starts the saga; start() is idempotent per id, so a redelivery starts nothing new
  subscriptions.sagaStarter = await bus.subscribe(
    config.topics.orders,
    { group: "place-order", concurrency: 8 },
    async (msg) => {
      if (msg.type !== "OrderCreated") return;
      const d = msg.data as OrderCreated;
      await sagas.start(
        "place-order",
        { orderId: d.orderId, userId: d.userId, sku: d.sku, qty: d.qty, amount: d.amount },
        { id: d.orderId },
      );
    },
  );
  const intake = await startIntake(bus, orders, config.topics.partnerFeed);
  subscriptions.intake = intake.subscription;

  // projections read committed events only: on SQLite through a connection of their own (the shared
  // one may be inside a transaction whose appends could still roll back)
  const sourceDb = db.kind === "sqlite" ? await openDb(config) : undefined;
  const source = sourceDb ? await openEventStore(sourceDb, t) : events;
  const projectionStore = await openProjectionStore(db, config, t);
  const projectors = [
    await project(source, userSummaryProjection(db, t), projectionStore),
    await project(source, userTransactionsProjection(db, t), projectionStore),
  ];
  const relay: OutboxRelay = outbox.relay(bus);
  const api = await startApi(orders, db, t);
  const wallet = commandHandler(events, userDecider);

  return {
    config,
    tables: t,
    bus,
    db,
    orders,
    events,
    sagas,
    api,
    intake,
    projectors,
    subscriptions,
    async createUser(userId, name, balance) {
      await db.serialize(async () => {
        await wallet(streamOf(userId), { type: "Create", name, email: `${userId}@example.com` });
        await wallet(streamOf(userId), { type: "AddBalance", amount: balance });
      });
    },
    async close() {
      await api.close();
      for (const s of Object.values(subscriptions)) await s.close();
      await sagas.close();
      for (const p of projectors) await p.close();
      await relay.close();
      await bus.close();
      await projectionStore.close();
      await sourceDb?.close();
      await db.close();
    },
  };
}
