// The event store's contract (memory, SQLite, PostgreSQL): one stream per aggregate, appended with an
// expected version, read forwards, all streams read in one global order, snapshots, a catch-up-then-live
// subscription. Invariant: a stream's versions are 1, 2, 3… with no gap, and an append whose expected
// version is not the stream's current one fails with ConflictError and writes nothing.
//
// Guarantees (testing/event-store-contract.ts checks them on every store):
// - Optimistic concurrency: of two appends expecting the same version, one commits, the other gets a
//   ConflictError; "any" never conflicts on version (PostgreSQL: see its file for the one exception).
// - Global order: every event has a `position` unique in the store and a `checkpoint`; reading all
//   events after a checkpoint never skips one that commits later (PostgreSQL orders by transaction and
//   waits for older transactions to finish; SQLite and memory have one writer) and keeps each stream's
//   version order.
// - With an outbox, each appended event is added to it in the same transaction (id = the event id,
//   key = the stream id, `dataversion` = its schema version): published if and only if it committed.

import { randomUUID } from "node:crypto";
import { ConflictError } from "../errors.ts";
import type { OutboxMessage } from "../outbox/outbox.ts";
import type { Upcasters } from "./upcasters.ts";
import { DATA_VERSION_EXTENSION } from "./upcasters.ts";

/** What an append may expect: the stream's version (0 = no stream yet), or a looser condition. */
export type ExpectedVersion = number | "any" | "no-stream" | "exists";

export interface NewEvent<T = unknown> {
  readonly type: string;
  /** JSON-serializable. */
  readonly data: T;
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Default: a random UUID. Unique in the store. */
  readonly id?: string;
  /** The version of `data`'s shape; default: the store's upcasters' current version for the type, or 1. */
  readonly schemaVersion?: number;
}

export interface StoredEvent<T = unknown> {
  readonly id: string;
  readonly streamId: string;
  /** 1 for a stream's first event. */
  readonly version: number;
  /** Unique in the store, increasing in append order. */
  readonly position: number;
  /** Where `readAll`/`subscribe` resume after this event. */
  readonly checkpoint: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: T;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly createdMs: number;
}

export interface AppendOptions<Tx> {
  /** Default "any". */
  readonly expectedVersion?: ExpectedVersion;
  /** The application's transaction to append in (PostgreSQL: a client after BEGIN; SQLite: the
   * connection inside BEGIN); without it the store commits the append on its own. */
  readonly tx?: Tx;
}

export interface AppendResult {
  /** The stream's version after the append: expect it next time. */
  readonly nextExpectedVersion: number;
  readonly events: readonly StoredEvent[];
}

export interface ReadStreamOptions {
  /** First version to read; default 1. */
  readonly fromVersion?: number;
  /** Default: all. */
  readonly maxCount?: number;
}

export interface ReadAllOptions {
  /** A checkpoint from an earlier event; default: from the beginning. */
  readonly after?: string;
  /** Default 1000. */
  readonly limit?: number;
}

export interface Snapshot<S = unknown> {
  /** The stream version the state includes. */
  readonly version: number;
  readonly state: S;
  /** The version of the state's shape: a snapshot of another version is ignored on load. Default 1. */
  readonly schemaVersion?: number;
}

export interface EventSubscribeOptions {
  /** Checkpoint to start after, "start" (default) or "end" (only events appended from now on). */
  readonly from?: string;
  /** Events read per query; default 500. */
  readonly batchSize?: number;
  /** The longest the subscription waits without a wake-up signal; default 1 s. */
  readonly pollMs?: number;
  /** A handler's error: the same event is retried after a backoff, never skipped. */
  readonly onError?: (error: unknown, event: StoredEvent) => void;
}

export interface EventSubscription {
  /** Resolves when the subscription has read everything there was when it started. */
  readonly caughtUp: Promise<void>;
  /** The checkpoint of the last event the handler finished. */
  readonly checkpoint: string | undefined;
  /** Stops after the event in hand. */
  close(): Promise<void>;
}

export type EventHandler = (event: StoredEvent) => Promise<void> | void;

export interface EventStore<Tx = never> {
  append(streamId: string, events: readonly NewEvent[], options?: AppendOptions<Tx>): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  /** The stream's version: 0 when it does not exist. */
  streamVersion(streamId: string): Promise<number>;
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;
  /** The checkpoint of the last event readable now ("" when none). */
  head(): Promise<string>;
  subscribe(handler: EventHandler, options?: EventSubscribeOptions): EventSubscription;
  /** The same, a batch at a time: the handler gets every event of a read together (a projection's
   * transaction), and the whole batch is retried when it throws. */
  subscribeBatches(
    handler: (events: readonly StoredEvent[]) => Promise<void>,
    options?: EventSubscribeOptions,
  ): EventSubscription;
  /** How many events are readable after `after` (default: all): a reader's lag. */
  countAfter(after?: string): Promise<number>;
  loadSnapshot<S>(streamId: string, options?: { schemaVersion?: number }): Promise<Snapshot<S> | undefined>;
  saveSnapshot<S>(streamId: string, snapshot: Snapshot<S>, options?: { tx?: Tx }): Promise<void>;
  close(): Promise<void>;
}

/** Where appended events go on the bus when a store has an outbox. */
export interface EventOutboxOptions {
  /** The topic for an event (a fixed name, or by event); undefined keeps the event off the bus. */
  readonly topic: string | ((event: StoredEvent) => string | undefined);
}

export interface EventStoreOptions {
  readonly upcasters?: Upcasters;
}

/** An event checked and completed for storage. */
export interface PreparedEvent {
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: string;
  readonly metadata: string;
}

export function prepareEvents(
  streamId: string,
  events: readonly NewEvent[],
  upcasters: Upcasters | undefined,
): PreparedEvent[] {
  if (typeof streamId !== "string" || streamId.length === 0) {
    throw new TypeError("append: the stream id must be a non-empty string");
  }
  return events.map((e, i) => {
    if (typeof e?.type !== "string" || e.type.length === 0) {
      throw new TypeError(`append: event ${i} needs a type (a non-empty string)`);
    }
    const data = JSON.stringify(e.data);
    if (data === undefined) throw new TypeError(`append: event ${i} (${e.type}): data must be JSON`);
    const schemaVersion = e.schemaVersion ?? upcasters?.currentVersion(e.type) ?? 1;
    if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
      throw new TypeError(`append: event ${i} (${e.type}): schemaVersion must be an integer ≥ 1`);
    }
    return {
      id: e.id ?? randomUUID(),
      type: e.type,
      schemaVersion,
      data,
      metadata: JSON.stringify(e.metadata ?? {}),
    };
  });
}

/** Throws ConflictError unless a stream at `actual` satisfies `expected`. */
export function checkExpected(streamId: string, expected: ExpectedVersion, actual: number): void {
  const ok =
    expected === "any" ||
    (expected === "no-stream" && actual === 0) ||
    (expected === "exists" && actual > 0) ||
    expected === actual;
  if (!ok) throw new ConflictError(streamId, expected, actual);
}

export function checkExpectedArg(expected: ExpectedVersion): void {
  const ok =
    typeof expected === "number"
      ? Number.isSafeInteger(expected) && expected >= 0
      : expected === "any" || expected === "no-stream" || expected === "exists";
  if (!ok) {
    throw new TypeError(
      `append: expectedVersion ${JSON.stringify(expected)} is not a version ≥ 0, "any", "no-stream" or "exists"`,
    );
  }
}

/** The outbox messages for appended events (those `topic` maps to a topic). */
export function outboxMessages(events: readonly StoredEvent[], o: EventOutboxOptions): OutboxMessage[] {
  const out: OutboxMessage[] = [];
  for (const e of events) {
    const topic = typeof o.topic === "string" ? o.topic : o.topic(e);
    if (topic === undefined) continue;
    const md = e.metadata;
    out.push({
      id: e.id,
      topic,
      key: e.streamId,
      type: e.type,
      data: e.data,
      extensions: { [DATA_VERSION_EXTENSION]: String(e.schemaVersion), streamversion: String(e.version) },
      ...(typeof md.correlationId === "string" ? { correlationId: md.correlationId } : {}),
      ...(typeof md.causationId === "string" ? { causationId: md.causationId } : {}),
    });
  }
  return out;
}

/** A stored event with its data upcast to the current version. */
export function upcastStored(e: StoredEvent, upcasters: Upcasters | undefined): StoredEvent {
  return upcasters === undefined ? e : upcasters.upcast(e);
}
