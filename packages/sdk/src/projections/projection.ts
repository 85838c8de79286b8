// Projections: read models built from the event store's events. A projection applies events to its read
// model through a transaction of the read model's database, and the projector stores the checkpoint
// (the last event applied) in that same transaction. Invariant: the read model reflects exactly the
// events up to its checkpoint — a batch's writes and its checkpoint commit together or not at all.
//
// Guarantees (testing/projection-contract.ts checks them): each event is applied once in effect with
// the SQLite and PostgreSQL stores (a failed or killed batch rolls back with its checkpoint and is read
// again); the memory store has no transactions (tests only: a batch that fails halfway is applied again,
// so its `apply` must tolerate that). Events are applied in the event store's global order.

import type { StoredEvent } from "../eventsourcing/event-store.ts";

export interface Projection<Tx> {
  /** Names the checkpoint: unique per read model. */
  readonly name: string;
  /** The event types it applies; the others pass by (the checkpoint still moves). Default: all. */
  readonly eventTypes?: readonly string[];
  /** Writes `event` into the read model through `tx`. */
  apply(event: StoredEvent, tx: Tx): Promise<void> | void;
  /** Empties the read model (before a rebuild), through `tx`. */
  reset(tx: Tx): Promise<void> | void;
}

/** Where a read model and its checkpoints live: memory, SQLite, PostgreSQL. */
export interface ProjectionStore<Tx> {
  /** Runs `fn` in one transaction (one at a time per store), committed unless it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  loadCheckpoint(name: string): Promise<string | undefined>;
  saveCheckpoint(tx: Tx, name: string, checkpoint: string): Promise<void>;
  clearCheckpoint(tx: Tx, name: string): Promise<void>;
  close(): Promise<void>;
}
