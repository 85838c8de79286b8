// Where saga state and choreography timeouts are kept: memory, SQLite or PostgreSQL behind one interface.
// Invariant: `update` writes only over the version it was read at (optimistic concurrency), so two
// orchestrators — or one reply delivered twice — can never both advance the same saga.

import type { SagaState, SagaStatus } from "./saga.ts";

export interface SagaQuery {
  readonly status?: SagaStatus;
  readonly name?: string;
  /** Sagas whose id sorts after this one (paging). */
  readonly afterId?: string;
  /** Default 100, at most 1000. */
  readonly limit?: number;
}

/** A choreography timeout: unless cancelled by `dueAt`, `event` is published (a compensating event). */
export interface SagaTimeout {
  readonly id: string;
  readonly dueAt: number;
  readonly topic: string;
  readonly type?: string;
  readonly data: unknown;
  readonly key?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
}

export interface SagaStore {
  /** Stores a new saga (version 1); false when a saga with its id exists already. */
  create(state: SagaState): Promise<boolean>;
  get(id: string): Promise<SagaState | undefined>;
  /** Writes `next` if the stored version is `next.version - 1`; false when someone else wrote first. */
  update(next: SagaState): Promise<boolean>;
  /** Sagas by id order. */
  list(query?: SagaQuery): Promise<SagaState[]>;
  /** Running or compensating sagas with `dueAt` ≤ `nowMs`, earliest first. */
  due(nowMs: number, limit: number): Promise<SagaState[]>;
  /**
   * Stores a timeout; false when one with its id exists or existed (a redelivered event schedules it
   * again, after it fired or was cancelled: it stays done).
   */
  scheduleTimeout(timeout: SagaTimeout): Promise<boolean>;
  /** Marks a timeout done without firing; false when it was not pending (fired, cancelled, never scheduled). */
  cancelTimeout(id: string): Promise<boolean>;
  /** Marks a timeout done after its event was published; false when it was not pending. */
  completeTimeout(id: string): Promise<boolean>;
  /** Whether timeout `id` is scheduled and neither fired nor cancelled. */
  timeoutPending(id: string): Promise<boolean>;
  /** Pending timeouts with `dueAt` ≤ `nowMs`, earliest first. */
  dueTimeouts(nowMs: number, limit: number): Promise<SagaTimeout[]>;
  /** Forgets done timeouts due before `beforeMs`; returns how many. */
  purgeTimeouts(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

export function queryLimit(q: SagaQuery | undefined): number {
  const limit = q?.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
    throw new TypeError(`saga list: limit must be an integer from 1 to 1000, not ${limit}`);
  }
  return limit;
}
