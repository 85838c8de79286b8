// Backpressure: takes deliveries from a transport subscription and runs at most `concurrency` of them
// through the pipeline at once, with at most `prefetch` held unsettled (so a slow handler pulls only what
// it can take). Invariants: every delivery is settled once: by the pipeline (`process`), or released here
// if the pipeline throws or the consumer closes before it started; with `orderByKey`, two messages with
// the same key never run at once and start in the order they arrived.

import { setMaxListeners } from "node:events";
import type { Clock } from "../lib/clock.ts";
import type { Delivery, Transport, TransportSubscription } from "../transports/transport.ts";
import { LagCache } from "./lag-cache.ts";

export interface ConsumerOptions {
  readonly topic: string;
  readonly group: string;
  readonly transport: Transport;
  readonly clock: Clock;
  /** Handlers running at once (≥ 1). */
  readonly concurrency: number;
  /** Deliveries held unsettled at once (≥ concurrency); defaults to `concurrency`. */
  readonly prefetch: number;
  readonly temporary?: boolean;
  /** Messages with the same key run one at a time, in the order they arrived (others in parallel). */
  readonly orderByKey?: boolean;
  /** Runs one delivery through the pipeline, which settles it (or throws, and the delivery is released). */
  readonly process: (delivery: Delivery, stop: AbortSignal) => Promise<void>;
  /** Settling failed (the connection dropped: the broker redelivers) or the pipeline threw. */
  readonly onError: (error: unknown, delivery: Delivery) => void;
}

export class Consumer {
  private readonly buffer: Delivery[] = [];
  private running = 0;
  private pausedBy = new Set<string>();
  private closing = false;
  private sub: TransportSubscription | undefined;
  private readonly stop = new AbortController();
  private idle: (() => void)[] = [];
  /** Keys with a message running, when messages of one key run one at a time. */
  private readonly busyKeys = new Set<string>();
  /** the transport's lag, asked at most once a second whoever calls (one place for every transport) */
  private readonly lagCache: LagCache;

  constructor(private readonly o: ConsumerOptions) {
    // every running handler listens on it: concurrency > 10 is no leak, so no MaxListenersExceededWarning
    setMaxListeners(0, this.stop.signal);
    this.lagCache = new LagCache(o.clock, async () => this.sub?.lag?.());
    if (!Number.isInteger(o.concurrency) || o.concurrency < 1) {
      throw new RangeError(`subscribe: concurrency must be an integer ≥ 1, got ${o.concurrency}`);
    }
    if (!Number.isInteger(o.prefetch) || o.prefetch < o.concurrency) {
      throw new RangeError(
        `subscribe: prefetch must be an integer ≥ concurrency (${o.concurrency}), got ${o.prefetch}`,
      );
    }
  }

  async start(): Promise<void> {
    this.sub = await this.o.transport.subscribe(
      this.o.topic,
      { group: this.o.group, prefetch: this.o.prefetch, ...(this.o.temporary ? { temporary: true } : {}) },
      (d) => this.received(d),
    );
  }

  get inFlight(): number {
    return this.running;
  }

  get buffered(): number {
    return this.buffer.length;
  }

  get paused(): boolean {
    return this.pausedBy.size > 0;
  }

  /** Stops starting handlers and taking deliveries until every `reason` that paused it has resumed. */
  pause(reason = "user"): void {
    this.pausedBy.add(reason);
    this.sub?.pause();
  }

  resume(reason = "user"): void {
    if (!this.pausedBy.delete(reason) || this.pausedBy.size > 0 || this.closing) return;
    this.sub?.resume();
    this.pump();
  }

  /** The group's backlog where the transport knows it; at most one broker request a second. */
  lag(): Promise<number | undefined> {
    return this.lagCache.get();
  }

  private received(d: Delivery): void {
    if (this.closing) {
      d.release().catch((e) => this.o.onError(e, d));
      return;
    }
    this.buffer.push(d);
    this.pump();
  }

  private pump(): void {
    while (!this.paused && !this.closing && this.running < this.o.concurrency) {
      const at = this.o.orderByKey ? this.nextFree() : 0;
      // the head is the common case: shift, not splice (no array per message)
      const d = at < 0 ? undefined : at === 0 ? this.buffer.shift() : this.buffer.splice(at, 1)[0];
      if (d === undefined) return;
      this.running++;
      void this.run(d);
    }
  }

  /** Index of the first buffered delivery whose key runs nothing now, or -1. */
  private nextFree(): number {
    const b = this.buffer;
    for (let i = 0; i < b.length; i++) if (this.free(keyOf(b[i] as Delivery))) return i;
    return -1;
  }

  private free(key: string | undefined): boolean {
    return key === undefined || !this.busyKeys.has(key);
  }

  private async run(d: Delivery): Promise<void> {
    const key = keyOf(d);
    if (this.o.orderByKey && key !== undefined) this.busyKeys.add(key);
    try {
      await this.o.process(d, this.stop.signal);
    } catch (e) {
      this.o.onError(e, d);
      await d.release().catch(() => {});
    } finally {
      if (key !== undefined) this.busyKeys.delete(key);
      this.running--;
      if (this.running === 0) for (const w of this.idle.splice(0)) w();
      this.pump();
    }
  }

  /**
   * Drains: takes nothing new, gives back what has not started, waits for running handlers up to
   * `drainMs` (then aborts their signal and waits for them to settle), then leaves the group.
   */
  async close(drainMs: number): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.sub?.pause();
    for (const d of this.buffer.splice(0)) await d.release().catch((e) => this.o.onError(e, d));
    if (this.running > 0) {
      const timer = this.o.clock.setTimer(drainMs, () => this.stop.abort(new Error("subscription closed")));
      await new Promise<void>((resolve) => this.idle.push(resolve));
      this.o.clock.clearTimer(timer);
    }
    await this.sub?.close();
  }
}

function keyOf(d: Delivery): string | undefined {
  return d.message.key;
}
