// The transactional outbox's shared vocabulary: the message an application adds inside its own
// transaction, the row a relay publishes, the two table layouts, and the storage contract every relay
// runs on. Invariant: a message is added in the caller's transaction (it commits or vanishes with the
// caller's writes) and is published only after that commit, with its row id as the message id.
//
// Guarantees (PostgreSQL and SQLite; testing/outbox-contract.ts checks them, outbox kill tests crash a
// relay process mid-batch):
// - No loss: a committed row stays pending until a publish of it was confirmed by the broker; a relay
//   that dies before marking it leaves it to the next claim.
// - At-least-once, duplicates carry the same id: the row id is the CloudEvents id, so a subscriber with
//   an inbox (`idempotent`) runs its handler once per row even when a relay crash republishes a batch.
// - Order per key (the aggregate id): rows with the same key are published in insertion order, also
//   with several relays at once — a relay never publishes a row while an earlier unsent row of its key
//   is held by another relay. Insertion order is commit order when the application serializes writes
//   to one aggregate (the event store does); rows without a key have no order among themselves.

import { randomUUID } from "node:crypto";
import type { PublishOptions } from "../envelope/envelope.ts";

/** What `outbox.add(tx, message)` stores; the relay publishes it with `bus.publish(topic, data, …)`. */
export interface OutboxMessage {
  readonly topic: string;
  /** JSON-serializable data (stored as JSON, published through the bus's serializer). */
  readonly data: unknown;
  /** The aggregate id: ordering key and message key. Required by the Debezium layout (`aggregateid`). */
  readonly key?: string;
  /** CloudEvents type; defaults to the topic. */
  readonly type?: string;
  /** The row id and message id; a random UUID unless given (the Debezium layout needs a UUID). */
  readonly id?: string;
  readonly subject?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly extensions?: Readonly<Record<string, string>>;
}

/** The publish options besides id, key and type that a row carries (its `metadata` column). */
export type OutboxMetadata = Pick<
  PublishOptions,
  "subject" | "headers" | "correlationId" | "causationId" | "extensions"
>;

/** A committed, unsent row as a relay sees it. */
export interface OutboxRow {
  /** Insertion order (the table's sequence). */
  readonly seq: number;
  readonly id: string;
  readonly topic: string;
  readonly key: string | undefined;
  readonly type: string;
  readonly data: unknown;
  readonly metadata: OutboxMetadata;
  readonly createdMs: number;
}

/**
 * `spindle` (default): columns seq, id, topic, key, type, payload, metadata, created/sent times.
 * `debezium`: Debezium's outbox event router columns — id (uuid), aggregatetype (the topic), aggregateid
 * (the key, required), type, payload (jsonb) — plus the relay's own (seq, metadata, times), which the
 * router ignores. With Debezium set `route.topic.replacement=${routedByValue}` to keep the topic names.
 */
export type OutboxLayout = "spindle" | "debezium";

export interface LayoutColumns {
  readonly topic: string;
  readonly key: string;
  readonly keyRequired: boolean;
  readonly uuidIds: boolean;
}

export function layoutColumns(layout: OutboxLayout | undefined): LayoutColumns {
  if (layout === undefined || layout === "spindle") {
    return { topic: "topic", key: "key", keyRequired: false, uuidIds: false };
  }
  if (layout === "debezium") {
    return { topic: "aggregatetype", key: "aggregateid", keyRequired: true, uuidIds: true };
  }
  throw new TypeError(`outbox: layout "${String(layout)}" is not "spindle" or "debezium"`);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

/** A message checked and completed for storage: id chosen, JSON encoded once. */
export interface OutboxRecord {
  readonly id: string;
  readonly topic: string;
  readonly key: string | null;
  readonly type: string;
  readonly payload: string;
  readonly metadata: string;
}

export function toRecord(m: OutboxMessage, cols: LayoutColumns): OutboxRecord {
  if (typeof m?.topic !== "string" || m.topic.length === 0) {
    throw new TypeError("outbox.add: message.topic must be a non-empty string");
  }
  if (cols.keyRequired && (typeof m.key !== "string" || m.key.length === 0)) {
    throw new TypeError("outbox.add: the debezium layout needs message.key (its aggregateid)");
  }
  const id = m.id ?? randomUUID();
  if (cols.uuidIds && !UUID.test(id)) {
    throw new TypeError(`outbox.add: the debezium layout needs a UUID id, not "${id}"`);
  }
  const payload = JSON.stringify(m.data);
  if (payload === undefined) throw new TypeError("outbox.add: message.data must be JSON-serializable");
  const metadata: OutboxMetadata = {
    ...(m.subject === undefined ? {} : { subject: m.subject }),
    ...(m.headers === undefined ? {} : { headers: m.headers }),
    ...(m.correlationId === undefined ? {} : { correlationId: m.correlationId }),
    ...(m.causationId === undefined ? {} : { causationId: m.causationId }),
    ...(m.extensions === undefined ? {} : { extensions: m.extensions }),
  };
  return {
    id,
    topic: m.topic,
    key: m.key ?? null,
    type: m.type ?? m.topic,
    payload,
    metadata: JSON.stringify(metadata),
  };
}

/** How many rows are waiting and since when. */
export interface OutboxBacklog {
  readonly pending: number;
  /** Age of the oldest pending row in ms by the database's clock; 0 when none. */
  readonly oldestAgeMs: number;
}

/**
 * The storage side of a relay (one per relay). `claim` takes up to `limit` pending rows that may be
 * published now, hands them to `publish` (which returns the seqs the broker confirmed) and marks those
 * sent — deleted, or stamped with the send time when rows are kept — before it resolves.
 */
export interface RelayStore {
  /** The store cannot take a second claim before the first is marked (SQLite: one lease owner a relay). */
  readonly claimsOneAtATime?: boolean;
  claim(limit: number, publish: (rows: readonly OutboxRow[]) => Promise<number[]>): Promise<ClaimResult>;
  /** Deletes rows sent before `beforeMs`; returns how many. */
  purgeSent(beforeMs: number): Promise<number>;
  backlog(): Promise<OutboxBacklog>;
  /** Calls `onWake` whenever rows may have been committed (NOTIFY, another connection's commit). */
  watch(onWake: () => void): { close(): Promise<void> | void };
  close(): Promise<void>;
}

export interface ClaimResult {
  /** Rows handed to publish. */
  readonly claimed: number;
  readonly sent: number;
  /** Pending rows seen but held back (another relay holds an earlier row of their key, or a lease). */
  readonly heldBack: number;
  /** The database was busy (another writer): nothing claimed, try again shortly. */
  readonly busy?: boolean;
}
