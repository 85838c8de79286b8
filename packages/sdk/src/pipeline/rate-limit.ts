// Rate limiting: a token bucket (steady rate with bursts) and a sliding window (at most N in any window),
// optionally one limiter per key, used around handlers (per subscription) and around publish. Invariants:
// callers are served in arrival order; over any window the sliding window grants at most `limit`; the
// bucket grants at most `burst + ratePerSec × t` in any t seconds.

import type { Clock } from "../lib/clock.ts";
import { sleep } from "../lib/clock.ts";
import type { Middleware } from "./context.ts";

export interface RateLimiter {
  /** Waits until the caller may go (for `key` when the limiter is per key); false if `signal` aborted. */
  acquire(key?: string, signal?: AbortSignal): Promise<boolean>;
}

export interface TokenBucketOptions {
  readonly ratePerSec: number;
  /** Tokens the bucket holds (the largest burst); default max(1, ratePerSec). */
  readonly burst?: number;
  /** One bucket per message key (messages without a key share one). */
  readonly perKey?: boolean;
}

export interface SlidingWindowOptions {
  readonly limit: number;
  readonly windowMs: number;
  readonly perKey?: boolean;
}

/** A limiter for one key: reserve() books the next slot and says how long to wait for it. */
interface Reserver {
  reserve(nowMs: number): number;
  /** True once it holds no reservation that could delay a later caller (safe to forget). */
  idle(nowMs: number): boolean;
}

class TokenBucket implements Reserver {
  private tokens: number;
  private atMs: number;

  constructor(
    private readonly ratePerMs: number,
    private readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.atMs = nowMs;
  }

  reserve(nowMs: number): number {
    this.refill(nowMs);
    // tokens may go below zero: the debt is the FIFO queue of callers already waiting
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens / this.ratePerMs);
  }

  idle(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.burst;
  }

  private refill(nowMs: number): void {
    this.tokens = Math.min(this.burst, this.tokens + (nowMs - this.atMs) * this.ratePerMs);
    this.atMs = nowMs;
  }
}

class SlidingWindow implements Reserver {
  /** The times of the last `limit` grants (some may be in the future: booked by waiting callers). */
  private readonly grants: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  reserve(nowMs: number): number {
    const oldest =
      this.grants.length >= this.limit ? (this.grants[this.grants.length - this.limit] as number) : -Infinity;
    const at = Math.max(nowMs, oldest + this.windowMs);
    this.grants.push(at);
    if (this.grants.length > this.limit) this.grants.shift();
    return at - nowMs;
  }

  idle(nowMs: number): boolean {
    const last = this.grants[this.grants.length - 1];
    return last === undefined || last + this.windowMs <= nowMs;
  }
}

/** Keys whose limiter went idle are forgotten once this many are held. */
const KEYS_MAX = 10_000;

class Limiter implements RateLimiter {
  private readonly byKey = new Map<string, Reserver>();

  constructor(
    private readonly clock: Clock,
    private readonly make: (nowMs: number) => Reserver,
    private readonly perKey: boolean,
  ) {}

  async acquire(key?: string, signal?: AbortSignal): Promise<boolean> {
    const now = this.clock.nowMs();
    const k = this.perKey ? (key ?? "") : "";
    let r = this.byKey.get(k);
    if (r === undefined) {
      if (this.byKey.size >= KEYS_MAX) this.forgetIdle(now);
      r = this.make(now);
      this.byKey.set(k, r);
    }
    const waitMs = r.reserve(now);
    return waitMs <= 0 ? !signal?.aborted : sleep(this.clock, waitMs, signal);
  }

  private forgetIdle(nowMs: number): void {
    for (const [k, r] of this.byKey) if (r.idle(nowMs)) this.byKey.delete(k);
  }
}

export const rateLimit = {
  tokenBucket: (clock: Clock, o: TokenBucketOptions): RateLimiter => {
    if (!(o.ratePerSec > 0))
      throw new RangeError(`rateLimit.tokenBucket: ratePerSec must be > 0, got ${o.ratePerSec}`);
    const burst = o.burst ?? Math.max(1, o.ratePerSec);
    if (!(burst >= 1)) throw new RangeError(`rateLimit.tokenBucket: burst must be ≥ 1, got ${burst}`);
    return new Limiter(clock, (now) => new TokenBucket(o.ratePerSec / 1000, burst, now), o.perKey === true);
  },
  slidingWindow: (clock: Clock, o: SlidingWindowOptions): RateLimiter => {
    if (!Number.isInteger(o.limit) || o.limit < 1 || !(o.windowMs > 0)) {
      throw new RangeError("rateLimit.slidingWindow: limit must be an integer ≥ 1 and windowMs > 0");
    }
    return new Limiter(clock, () => new SlidingWindow(o.limit, o.windowMs), o.perKey === true);
  },
};

/** Limits for `subscribe({ rateLimit })` and `connect({ publishRateLimit })`, made on the bus's clock. */
export type RateLimitOptions =
  | ({ readonly kind: "token-bucket" } & TokenBucketOptions)
  | ({ readonly kind: "sliding-window" } & SlidingWindowOptions);

export function makeRateLimiter(clock: Clock, o: RateLimitOptions | RateLimiter): RateLimiter {
  if ("acquire" in o) return o;
  return o.kind === "token-bucket" ? rateLimit.tokenBucket(clock, o) : rateLimit.slidingWindow(clock, o);
}

/** Each attempt waits for the limiter (by message key when it is per key) before it runs. */
export function rateLimitMiddleware(limiter: RateLimiter): Middleware {
  return async (ctx, next) => {
    if (!(await limiter.acquire(ctx.delivery.message.key, ctx.signal))) ctx.signal.throwIfAborted();
    await next();
  };
}
