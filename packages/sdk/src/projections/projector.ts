// Runs one projection: subscribes to the event store in batches from the stored checkpoint, applies each
// batch and saves its checkpoint in one read-model transaction, reports its lag (also as OTel gauges while
// started), and rebuilds from the beginning on demand. Invariant: the checkpoint saved is always the last event of a batch whose writes
// committed with it; a failing batch is retried whole after a backoff, never skipped.

import type { EventStore, EventSubscription, StoredEvent } from "../eventsourcing/event-store.ts";
import { type Clock, systemClock } from "../lib/clock.ts";
import type { Projection, ProjectionStore } from "./projection.ts";
import { observeProjectionLag } from "./projection-metrics.ts";

export interface ProjectorOptions {
  /** Events per transaction; default 500. */
  readonly batchSize?: number;
  /** The longest the subscription sleeps without a wake-up; default 1 s. */
  readonly pollMs?: number;
  readonly clock?: Clock;
  /** A failed batch (it is retried); console.error by default. */
  readonly onError?: (error: unknown, event: StoredEvent | undefined) => void;
}

/** What a projector needs of an event store (any store: it only reads). */
export type EventSource = Pick<EventStore<never>, "subscribeBatches" | "readAll" | "countAfter">;

export interface ProjectionLag {
  /** Events in the store after the checkpoint. */
  readonly events: number;
  /** How long the oldest of them has waited, in ms (0 when none). */
  readonly ms: number;
}

export class Projector<Tx> {
  private sub: EventSubscription | undefined;
  private gauges: { close(): void } | undefined;
  private readonly clock: Clock;
  private readonly types: ReadonlySet<string> | undefined;

  constructor(
    private readonly events: EventSource,
    readonly projection: Projection<Tx>,
    private readonly store: ProjectionStore<Tx>,
    private readonly options: ProjectorOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.types = projection.eventTypes && new Set(projection.eventTypes);
  }

  /** Starts from the stored checkpoint (the beginning when there is none). */
  async start(): Promise<void> {
    if (this.sub !== undefined) return;
    const from = (await this.store.loadCheckpoint(this.projection.name)) ?? "start";
    this.gauges ??= observeProjectionLag(this.projection.name, () => this.lag());
    this.sub = this.events.subscribeBatches((batch) => this.project(batch), {
      from,
      batchSize: this.options.batchSize ?? 500,
      ...(this.options.pollMs === undefined ? {} : { pollMs: this.options.pollMs }),
      onError:
        this.options.onError ??
        ((e, ev) =>
          console.error(`@spindle/sdk: projection ${this.projection.name} at ${ev?.checkpoint}:`, e)),
    });
  }

  /** Resolves once the projection has applied everything there was when it (re)started. */
  get caughtUp(): Promise<void> {
    if (this.sub === undefined) throw new Error(`projection ${this.projection.name} is not started`);
    return this.sub.caughtUp;
  }

  private async project(batch: readonly StoredEvent[]): Promise<void> {
    const last = batch.at(-1);
    if (last === undefined) return;
    await this.store.transaction(async (tx) => {
      for (const e of batch) {
        if (this.types === undefined || this.types.has(e.type)) await this.projection.apply(e, tx);
      }
      await this.store.saveCheckpoint(tx, this.projection.name, last.checkpoint);
    });
  }

  /** How far the read model is behind the event store. */
  async lag(): Promise<ProjectionLag> {
    const checkpoint = this.sub?.checkpoint ?? (await this.store.loadCheckpoint(this.projection.name));
    const after = checkpoint === undefined ? {} : { after: checkpoint };
    const [next] = await this.events.readAll({ ...after, limit: 1 });
    if (next === undefined) return { events: 0, ms: 0 };
    return {
      events: await this.events.countAfter(checkpoint),
      ms: Math.max(0, this.clock.nowMs() - next.createdMs),
    };
  }

  /** Stops, empties the read model and forgets the checkpoint in one transaction, starts from the beginning. */
  async rebuild(): Promise<void> {
    await this.stop();
    await this.store.transaction(async (tx) => {
      await this.projection.reset(tx);
      await this.store.clearCheckpoint(tx, this.projection.name);
    });
    await this.start();
  }

  private async stop(): Promise<void> {
    const sub = this.sub;
    this.sub = undefined;
    await sub?.close();
  }

  /** Stops after the batch in hand (committed or rolled back). */
  close(): Promise<void> {
    this.gauges?.close();
    this.gauges = undefined;
    return this.stop();
  }
}

/** Starts projecting `events` into `store` with `projection`. */
export async function project<Tx>(
  events: EventSource,
  projection: Projection<Tx>,
  store: ProjectionStore<Tx>,
  options: ProjectorOptions = {},
): Promise<Projector<Tx>> {
  const p = new Projector(events, projection, store, options);
  await p.start();
  return p;
}
