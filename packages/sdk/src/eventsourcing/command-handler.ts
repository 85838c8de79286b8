// Runs a command against an event-sourced aggregate: load its stream (from the latest snapshot on),
// fold the state, decide, append with the loaded version as the expected one, and — when another writer
// got there first (ConflictError) — load and decide again. Invariant: events are only ever decided on
// the state of the exact version they are appended after; a retry never reuses a stale decision.

import { ConflictError } from "../errors.ts";
import { type Clock, sleep, systemClock } from "../lib/clock.ts";
import { type Decider, type DomainEvent, decided, fold } from "./decider.ts";
import type { EventStore, StoredEvent } from "./event-store.ts";

export interface CommandHandlerOptions {
  /** Tries on ConflictError before giving up with it; default 5. */
  readonly attempts?: number;
  /** Pause before the first retry is random up to this (ms), doubling each time; default 10. */
  readonly retryDelayMs?: number;
  /** Save a snapshot of the state each time the stream passes a multiple of this many events. */
  readonly snapshotEvery?: number;
  /** The version of the state's shape: change it when the state changes shape (old snapshots are
   * ignored and rebuilt). Default 1. */
  readonly snapshotVersion?: number;
  readonly clock?: Clock;
  /** A snapshot that failed to save (the command itself succeeded); console.error by default. */
  readonly onError?: (e: unknown) => void;
}

export interface HandleOptions<Tx> {
  /** The version the caller saw (an HTTP If-Match): a different one is a ConflictError, not retried. */
  readonly expectedVersion?: number;
  /** Append in the caller's transaction (no retries then: the caller's transaction decides). */
  readonly tx?: Tx;
  /** Merged into each new event's metadata (correlationId, causationId, user…). */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface CommandResult<S> {
  readonly state: S;
  readonly events: readonly StoredEvent[];
  readonly nextExpectedVersion: number;
}

/** The state of stream `streamId` and its version (0: no stream), from the latest usable snapshot on. */
export async function aggregateStream<C, S, E extends DomainEvent, Tx>(
  store: EventStore<Tx>,
  decider: Decider<C, S, E>,
  streamId: string,
  options: { snapshotVersion?: number } = {},
): Promise<{ state: S; version: number }> {
  const snapshot = await store.loadSnapshot<S>(streamId, { schemaVersion: options.snapshotVersion ?? 1 });
  let state = snapshot?.state ?? decider.initialState();
  let version = snapshot?.version ?? 0;
  for (;;) {
    const events = await store.readStream(streamId, { fromVersion: version + 1, maxCount: 1000 });
    state = fold(decider, events as unknown as E[], state);
    version += events.length;
    if (events.length < 1000) return { state, version };
  }
}

/** A function that handles commands for the aggregates `decider` describes, stored in `store`. */
export function commandHandler<C, S, E extends DomainEvent, Tx>(
  store: EventStore<Tx>,
  decider: Decider<C, S, E>,
  options: CommandHandlerOptions = {},
): (streamId: string, command: C, handle?: HandleOptions<Tx>) => Promise<CommandResult<S>> {
  const attempts = options.attempts ?? 5;
  const clock = options.clock ?? systemClock;
  const every = options.snapshotEvery;
  if (every !== undefined && !(Number.isSafeInteger(every) && every > 0)) {
    throw new TypeError("commandHandler: snapshotEvery must be a positive integer");
  }
  const snapshotVersion = options.snapshotVersion ?? 1;

  const once = async (streamId: string, command: C, h: HandleOptions<Tx>): Promise<CommandResult<S>> => {
    const { state, version } = await aggregateStream(store, decider, streamId, { snapshotVersion });
    if (h.expectedVersion !== undefined && h.expectedVersion !== version) {
      throw new ConflictError(streamId, h.expectedVersion, version);
    }
    const events = await decided(decider, command, state);
    if (events.length === 0) return { state, events: [], nextExpectedVersion: version };
    const md = h.metadata;
    const r = await store.append(
      streamId,
      md === undefined ? events : events.map((e) => ({ ...e, metadata: { ...md, ...e.metadata } })),
      { expectedVersion: version, ...(h.tx === undefined ? {} : { tx: h.tx }) },
    );
    const next = fold(decider, r.events as unknown as E[], state);
    if (every !== undefined && Math.floor(r.nextExpectedVersion / every) > Math.floor(version / every)) {
      const snap = { version: r.nextExpectedVersion, state: next, schemaVersion: snapshotVersion };
      if (h.tx !== undefined) await store.saveSnapshot(streamId, snap, { tx: h.tx });
      else await store.saveSnapshot(streamId, snap).catch(options.onError ?? console.error);
    }
    return { state: next, events: r.events, nextExpectedVersion: r.nextExpectedVersion };
  };

  return async (streamId, command, h = {}) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(streamId, command, h);
      } catch (e) {
        const retry = e instanceof ConflictError && h.tx === undefined && h.expectedVersion === undefined;
        if (!retry || attempt >= attempts) throw e;
        await sleep(clock, Math.random() * (options.retryDelayMs ?? 10) * 2 ** (attempt - 1));
      }
    }
  };
}
