// An event store in process memory, for unit tests of deciders and handlers and for examples: the same
// contract as the SQL stores, without transactions or an outbox. Invariant: appends are applied one at a
// time (JavaScript runs one at a time), so positions are commit order and versions have no gaps.

import { type Clock, systemClock } from "../lib/clock.ts";
import {
  type AppendOptions,
  type AppendResult,
  checkExpected,
  checkExpectedArg,
  type EventHandler,
  type EventStore,
  type EventStoreOptions,
  type EventSubscribeOptions,
  type NewEvent,
  prepareEvents,
  type ReadAllOptions,
  type ReadStreamOptions,
  type Snapshot,
  type StoredEvent,
  upcastStored,
} from "./event-store.ts";
import { type BatchHandler, CatchUpSubscription, type SubscriptionSource } from "./subscription.ts";

export interface MemoryEventStoreOptions extends EventStoreOptions {
  readonly clock?: Clock;
}

export class MemoryEventStore implements EventStore<never> {
  private readonly all: StoredEvent[] = [];
  private readonly streams = new Map<string, StoredEvent[]>();
  private readonly ids = new Set<string>();
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly wakers = new Set<() => void>();
  private readonly clock: Clock;

  constructor(private readonly options: MemoryEventStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  async append(
    streamId: string,
    events: readonly NewEvent[],
    options: AppendOptions<never> = {},
  ): Promise<AppendResult> {
    const expected = options.expectedVersion ?? "any";
    checkExpectedArg(expected);
    const prepared = prepareEvents(streamId, events, this.options.upcasters);
    const stream = this.streams.get(streamId) ?? [];
    checkExpected(streamId, expected, stream.length);
    for (const p of prepared) {
      if (this.ids.has(p.id)) throw new Error(`append: event id ${p.id} is already in the store`);
    }
    const createdMs = this.clock.nowMs();
    const stored = prepared.map((p, i): StoredEvent => {
      const position = this.all.length + i + 1;
      return {
        id: p.id,
        streamId,
        version: stream.length + i + 1,
        position,
        checkpoint: String(position),
        type: p.type,
        schemaVersion: p.schemaVersion,
        // stored as JSON so a reader never shares objects with the writer
        data: JSON.parse(p.data),
        metadata: JSON.parse(p.metadata),
        createdMs,
      };
    });
    for (const e of stored) {
      this.all.push(e);
      stream.push(e);
      this.ids.add(e.id);
    }
    this.streams.set(streamId, stream);
    if (stored.length > 0) for (const w of this.wakers) w();
    return { nextExpectedVersion: stream.length, events: stored.map((e) => this.copy(e)) };
  }

  private copy(e: StoredEvent): StoredEvent {
    return upcastStored(
      { ...e, data: structuredClone(e.data), metadata: structuredClone(e.metadata) },
      this.options.upcasters,
    );
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const from = Math.max(1, options.fromVersion ?? 1);
    const stream = this.streams.get(streamId) ?? [];
    return stream.slice(from - 1, from - 1 + (options.maxCount ?? stream.length)).map((e) => this.copy(e));
  }

  async streamVersion(streamId: string): Promise<number> {
    return this.streams.get(streamId)?.length ?? 0;
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const after = options.after === undefined || options.after === "" ? 0 : Number(options.after);
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new TypeError(`readAll: "${options.after}" is not a checkpoint of this store`);
    }
    return this.all.slice(after, after + (options.limit ?? 1000)).map((e) => this.copy(e));
  }

  async head(): Promise<string> {
    return this.all.length === 0 ? "" : String(this.all.length);
  }

  private source(): SubscriptionSource {
    return {
      readAll: (o) => this.readAll(o),
      head: () => this.head(),
      watch: (onWake) => {
        this.wakers.add(onWake);
        return { close: () => void this.wakers.delete(onWake) };
      },
    };
  }

  subscribe(handler: EventHandler, options: EventSubscribeOptions = {}): CatchUpSubscription {
    return new CatchUpSubscription(this.source(), handler, options, this.clock);
  }

  subscribeBatches(handler: BatchHandler, options: EventSubscribeOptions = {}): CatchUpSubscription {
    return new CatchUpSubscription(this.source(), { batch: handler }, options, this.clock);
  }

  async countAfter(after?: string): Promise<number> {
    const [first] = await this.readAll({ ...(after === undefined ? {} : { after }), limit: 1 });
    return first === undefined ? 0 : this.all.length - first.position + 1;
  }

  async loadSnapshot<S>(
    streamId: string,
    options: { schemaVersion?: number } = {},
  ): Promise<Snapshot<S> | undefined> {
    const s = this.snapshots.get(streamId);
    if (s === undefined || (s.schemaVersion ?? 1) !== (options.schemaVersion ?? 1)) return undefined;
    return { ...s, state: structuredClone(s.state) as S };
  }

  async saveSnapshot<S>(streamId: string, snapshot: Snapshot<S>): Promise<void> {
    const old = this.snapshots.get(streamId);
    if (old !== undefined && old.version > snapshot.version) return;
    this.snapshots.set(streamId, {
      version: snapshot.version,
      state: JSON.parse(JSON.stringify(snapshot.state)),
      schemaVersion: snapshot.schemaVersion ?? 1,
    });
  }

  async close(): Promise<void> {}
}

/** An event store in process memory. */
export function memoryEventStore(options: MemoryEventStoreOptions = {}): MemoryEventStore {
  return new MemoryEventStore(options);
}
