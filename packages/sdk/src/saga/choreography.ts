// Choreographed sagas: services react to each other's events, with no orchestrator. `reactions` turns a
// map of event types into a subscription handler whose `emit` carries the conversation's correlation id
// and the cause's id; `sagaTimeouts` keeps deadlines in a saga store and publishes a compensating event
// when a reply never comes. Invariants: a reaction run again (a redelivery) emits the same event ids and
// schedules the same timeout ids, so nothing downstream sees it twice through an inbox; a timeout fires
// at least once unless cancelled first, and never after it was cancelled or fired.

import type { Bus, Handler, HandlerContext } from "../bus.ts";
import type { Message, PublishOptions } from "../envelope/envelope.ts";
import type { TimerHandle } from "../lib/clock.ts";
import type { SagaStore, SagaTimeout } from "./saga-store.ts";

/** The compensating event a timeout publishes. */
export interface TimeoutEvent {
  readonly topic: string;
  readonly type?: string;
  readonly data: unknown;
  readonly key?: string;
}

export interface ReactionContext {
  readonly message: Message;
  /** The conversation's id: the message's correlation id, or its own id when it starts one. */
  readonly correlationId: string;
  readonly signal: AbortSignal;
  /** The inbox's transaction, when the subscription has a transactional inbox. */
  readonly tx: unknown;
  /**
   * Publishes an event caused by this message (same correlation id; causation id = this message's id).
   * Its id is derived from this message's id, topic and type, so a repeated reaction emits a duplicate.
   */
  emit(topic: string, type: string, data: unknown, options?: PublishOptions): Promise<string>;
  /**
   * Schedules timeout `name` of this conversation: unless `fulfil(name)` comes first, `onTimeout` is
   * published after `ms`, with this conversation's correlation id. Needs `reactions(…, { timeouts })`.
   */
  expect(name: string, ms: number, onTimeout: TimeoutEvent): Promise<boolean>;
  /** Cancels timeout `name` of this conversation; false when it already fired (or was never set). */
  fulfil(name: string): Promise<boolean>;
}

export type Reaction = (message: Message, ctx: ReactionContext) => unknown;

export interface ReactionsOptions {
  /** Where `expect`/`fulfil` keep their deadlines. */
  readonly timeouts?: SagaTimeouts;
  /** Messages of a type with no reaction: ignored (default) or a NonRetryable failure. */
  readonly unknownTypes?: "ignore" | "fail";
}

/** A subscription handler that runs the reaction for each message's type (CloudEvents `type`). */
export function reactions(
  handlers: Readonly<Record<string, Reaction>>,
  options: ReactionsOptions = {},
): Handler {
  for (const [type, fn] of Object.entries(handlers)) {
    if (typeof fn !== "function")
      throw new TypeError(`reactions: the reaction to "${type}" must be a function`);
  }
  return (message, hctx) => {
    const reaction = Object.hasOwn(handlers, message.type) ? handlers[message.type] : undefined;
    if (reaction === undefined) {
      if (options.unknownTypes === "fail")
        throw new TypeError(`reactions: no reaction to type "${message.type}"`);
      return undefined;
    }
    return reaction(message, reactionContext(message, hctx, options.timeouts));
  };
}

function reactionContext(message: Message, hctx: HandlerContext, timeouts?: SagaTimeouts): ReactionContext {
  const correlationId = message.correlationId ?? message.id;
  const needTimeouts = (): SagaTimeouts => {
    if (timeouts === undefined)
      throw new TypeError("reactions: expect/fulfil need reactions(…, { timeouts })");
    return timeouts;
  };
  return {
    message,
    correlationId,
    signal: hctx.signal,
    tx: hctx.tx,
    emit: (topic, type, data, o = {}) =>
      hctx.publish(topic, data, {
        id: `${message.id}>${topic}/${type}`,
        type,
        correlationId,
        causationId: message.id,
        ...o,
      }),
    expect: (name, ms, onTimeout) =>
      needTimeouts().schedule(`${correlationId}/${name}`, ms, onTimeout, {
        correlationId,
        causationId: message.id,
      }),
    fulfil: (name) => needTimeouts().cancel(`${correlationId}/${name}`),
  };
}

export interface SagaTimeoutsOptions {
  readonly store: SagaStore;
  /** How often the store is asked for due timeouts (others' and those left by a dead process); default 1 s. */
  readonly pollIntervalMs?: number;
  readonly onError?: (error: unknown, context: string) => void;
}

/** Persisted timeouts that publish a compensating event when nobody cancels them in time. */
export class SagaTimeouts {
  private readonly timers = new Map<string, TimerHandle>();
  private poller: TimerHandle | undefined;
  private firing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly bus: Bus,
    private readonly options: SagaTimeoutsOptions,
  ) {
    if (options?.store === undefined) throw new TypeError("sagaTimeouts: options.store is required");
  }

  /** Starts firing due timeouts (those a dead process left too). */
  start(): this {
    this.poll();
    return this;
  }

  /**
   * Schedules timeout `id` (stays done once fired or cancelled: scheduling it again does nothing, so a
   * redelivered event cannot revive it). Resolves false when the id was known already.
   */
  async schedule(
    id: string,
    ms: number,
    event: TimeoutEvent,
    ids: { correlationId?: string; causationId?: string } = {},
  ): Promise<boolean> {
    if (typeof id !== "string" || id.length === 0)
      throw new TypeError("sagaTimeouts.schedule: id must be a non-empty string");
    if (!(Number.isFinite(ms) && ms >= 0))
      throw new TypeError("sagaTimeouts.schedule: ms must be a number ≥ 0");
    if (typeof event?.topic !== "string" || event.topic.length === 0) {
      throw new TypeError("sagaTimeouts.schedule: the event must have a topic (a non-empty string)");
    }
    const t: SagaTimeout = { ...event, ...ids, id, dueAt: this.bus.clock.nowMs() + ms };
    const added = await this.options.store.scheduleTimeout(t);
    if (added) this.arm(t);
    return added;
  }

  /** Cancels timeout `id`; false when it already fired, was cancelled or was never scheduled. */
  async cancel(id: string): Promise<boolean> {
    this.bus.clock.clearTimer(this.timers.get(id));
    this.timers.delete(id);
    return this.options.store.cancelTimeout(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.bus.clock.clearTimer(this.poller);
    for (const t of this.timers.values()) this.bus.clock.clearTimer(t);
    this.timers.clear();
    await this.firing;
  }

  private arm(t: SagaTimeout): void {
    if (this.closed) return;
    const timer = this.bus.clock.setTimer(Math.max(0, t.dueAt - this.bus.clock.nowMs()), () => {
      this.timers.delete(t.id);
      this.enqueue([t]);
    });
    this.timers.set(t.id, timer);
  }

  private poll(): void {
    if (this.closed) return;
    this.poller = this.bus.clock.setTimer(this.options.pollIntervalMs ?? 1000, () => {
      void this.options.store
        .dueTimeouts(this.bus.clock.nowMs(), 100)
        .then((due) => this.enqueue(due))
        .catch((e) => this.reportError(e, "reading due timeouts"))
        .finally(() => this.poll());
    });
  }

  /** Fires one batch at a time, so a poll and a timer never publish the same timeout at once here. */
  private enqueue(due: SagaTimeout[]): void {
    this.firing = this.firing.then(async () => {
      for (const t of due) {
        if (this.closed) return;
        await this.fire(t).catch((e) => this.reportError(e, `timeout ${t.id}`));
      }
    });
  }

  private async fire(t: SagaTimeout): Promise<void> {
    if (!(await this.options.store.timeoutPending(t.id))) return; // cancelled or fired meanwhile
    // published first, marked after: a crash in between publishes it again, with the same id
    await this.bus.publish(t.topic, t.data, {
      id: `timeout:${t.id}`,
      type: t.type ?? t.topic,
      ...(t.key === undefined ? {} : { key: t.key }),
      ...(t.correlationId === undefined ? {} : { correlationId: t.correlationId }),
      ...(t.causationId === undefined ? {} : { causationId: t.causationId }),
    });
    await this.options.store.completeTimeout(t.id);
  }

  private reportError(error: unknown, context: string): void {
    if (this.options.onError) this.options.onError(error, context);
    else console.error(`@spindle/sdk saga timeouts: ${context}:`, error);
  }
}

/** Persisted timeouts on `bus`, started: they fire from the store, so a restarted process fires the rest. */
export function sagaTimeouts(bus: Bus, options: SagaTimeoutsOptions): SagaTimeouts {
  return new SagaTimeouts(bus, options).start();
}
