// Circuit breaker: closed → open after N consecutive failures or a failure rate over a time window →
// half-open after `openMs` → one probe at a time; success closes, failure reopens. As middleware, an open
// breaker pauses the whole subscription (nothing is taken, no retries burn) and resumes it for the probe.
// Invariants: while open no handler runs; while half-open at most `halfOpenProbes` run at once and the
// other callers wait for the probe's outcome; a call refused (CircuitOpenError) is handed back
// unprocessed and does not count as an attempt.

import { CircuitOpenError } from "../errors.ts";
import type { Clock, TimerHandle } from "../lib/clock.ts";
import type { Middleware } from "./context.ts";

export type CircuitState = "closed" | "open" | "half-open";

export interface CircuitBreakerOptions {
  /** Open after this many failures in a row (default 5 unless `failureRate` is set). */
  readonly failureThreshold?: number;
  /** Or open when at least `minCalls` calls in the last `windowMs` failed at this rate (0..1). */
  readonly failureRate?: { readonly rate: number; readonly windowMs: number; readonly minCalls?: number };
  /** How long it stays open before a probe; default 30 s. */
  readonly openMs?: number;
  /** Probes run at once while half-open; default 1. */
  readonly halfOpenProbes?: number;
  /** Which errors count as failures of the downstream (default: all). */
  readonly isFailure?: (error: unknown) => boolean;
  readonly onStateChange?: (state: CircuitState) => void;
}

export class CircuitBreaker {
  private current: CircuitState = "closed";
  private consecutive = 0;
  private calls: { atMs: number; failed: boolean }[] = [];
  private probes = 0;
  private timer: TimerHandle | undefined;
  private readonly listeners: ((s: CircuitState) => void)[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly o: CircuitBreakerOptions = {},
  ) {
    const r = o.failureRate;
    if (r !== undefined && !(r.rate > 0 && r.rate <= 1 && r.windowMs > 0)) {
      throw new RangeError("circuitBreaker: failureRate needs 0 < rate ≤ 1 and windowMs > 0");
    }
    if (o.onStateChange) this.listeners.push(o.onStateChange);
  }

  get state(): CircuitState {
    return this.current;
  }

  onStateChange(listener: (s: CircuitState) => void): void {
    this.listeners.push(listener);
  }

  /** Runs `fn` if the breaker lets it (else throws CircuitOpenError) and records how it went. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    while (this.current === "half-open" && this.probes >= (this.o.halfOpenProbes ?? 1)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.current === "open") throw new CircuitOpenError("circuit open");
    const probing = this.current === "half-open";
    if (probing) this.probes++;
    try {
      const v = await fn();
      this.record(false, probing);
      return v;
    } catch (e) {
      this.record(this.o.isFailure?.(e) ?? true, probing);
      throw e;
    } finally {
      if (probing) {
        this.probes--;
        this.waiters.shift()?.();
      }
    }
  }

  private record(failed: boolean, probing: boolean): void {
    if (probing) {
      if (failed) this.open();
      else if (this.current === "half-open") this.set("closed");
      return;
    }
    if (this.current !== "closed") return;
    this.consecutive = failed ? this.consecutive + 1 : 0;
    const now = this.clock.nowMs();
    const rate = this.o.failureRate;
    if (rate !== undefined) {
      this.calls.push({ atMs: now, failed });
      const since = now - rate.windowMs;
      while ((this.calls[0]?.atMs ?? now) <= since) this.calls.shift();
      const failures = this.calls.filter((c) => c.failed).length;
      if (this.calls.length >= (rate.minCalls ?? 10) && failures / this.calls.length >= rate.rate)
        this.open();
    }
    const threshold = this.o.failureThreshold ?? (rate === undefined ? 5 : undefined);
    if (threshold !== undefined && this.consecutive >= threshold) this.open();
  }

  private open(): void {
    this.clock.clearTimer(this.timer);
    this.set("open");
    this.timer = this.clock.setTimer(this.o.openMs ?? 30_000, () => this.set("half-open"));
  }

  private set(s: CircuitState): void {
    if (s === this.current) return;
    this.current = s;
    this.consecutive = 0;
    this.calls = [];
    for (const l of this.listeners) l(s);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Stops the open → half-open timer (the subscription is closing). */
  dispose(): void {
    this.clock.clearTimer(this.timer);
  }
}

/**
 * The breaker as middleware: each attempt runs through it; when it opens the subscription pauses and a
 * message that meets an open breaker is handed back (CircuitOpenError, released by the consumer); when
 * it turns half-open the subscription resumes so a probe can run.
 */
export function circuitBreakerMiddleware(breaker: CircuitBreaker): Middleware {
  let wired = false;
  return async (ctx, next) => {
    if (!wired) {
      wired = true;
      const sub = ctx.subscription;
      if (breaker.state === "open") sub.pause();
      breaker.onStateChange((s) => (s === "open" ? sub.pause() : sub.resume()));
    }
    await breaker.run(next);
  };
}
