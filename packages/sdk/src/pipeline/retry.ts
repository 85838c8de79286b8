// Retry: the policies (immediate, fixed, exponential with full/equal jitter, custom) and the middleware
// that applies one. Short delays are waited in process; longer ones become a delayed copy through the
// broker to this group alone, and the original is acked. Invariants: a handler runs at most `attempts`
// times per message (counted across delayed copies in the x-spindle-attempt header); a NonRetryableError
// or an error `retryable` rejects is not retried; a CircuitOpenError is not an attempt at all.
//
// Guarantee: at-least-once. A crash between publishing a delayed copy and acking the original leaves two
// copies; the inbox (pipeline/inbox.ts) makes the second a no-op.

import { HEADER, withHeaders } from "../envelope/envelope.ts";
import { CircuitOpenError, isNonRetryable } from "../errors.ts";
import { sleep } from "../lib/clock.ts";
import type { Middleware } from "./context.ts";

export interface RetryPolicy {
  /** Most handler runs per message, the first included (1 = no retry). */
  readonly attempts: number;
  /** Delay before attempt `failed + 1`, after attempt `failed` (1-based) threw `error`. */
  delayMs(failed: number, error: unknown): number;
  /** Whether `error` is worth another attempt (NonRetryableError never is). */
  retryable(error: unknown): boolean;
  /** Delays up to this are waited in process, holding the message; longer ones go through the broker. */
  readonly inProcessMaxMs: number;
}

export interface RetryOptions {
  /** Most handler runs per message, the first included; default 3. */
  readonly attempts?: number;
  /** Cap on any one delay. */
  readonly maxMs?: number;
  /** Return false for errors that retrying cannot fix; default: every error is retryable. */
  readonly retryable?: (error: unknown) => boolean;
  /** Delays up to this many ms are waited in process; longer ones are delayed redeliveries. Default 1000. */
  readonly inProcessMaxMs?: number;
  /** Source of randomness for jitter, in [0, 1); Math.random by default (tests pass a fixed one). */
  readonly random?: () => number;
}

export type Jitter = "none" | "full" | "equal";

function policy(o: RetryOptions, delay: (failed: number, error: unknown) => number): RetryPolicy {
  const attempts = o.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new RangeError(`retry: attempts must be an integer ≥ 1 (the first run included), got ${attempts}`);
  }
  const maxMs = o.maxMs ?? Number.POSITIVE_INFINITY;
  return {
    attempts,
    delayMs: (failed, error) => Math.max(0, Math.min(maxMs, delay(failed, error))),
    retryable: (error) => !isNonRetryable(error) && (o.retryable?.(error) ?? true),
    inProcessMaxMs: o.inProcessMaxMs ?? 1_000,
  };
}

/** Policy constructors: `retry.exponential({ attempts: 5, initialMs: 200, maxMs: 30_000, jitter: "full" })`. */
export const retry = {
  /** One attempt: failures go straight to the dead-letter queue. */
  none: (): RetryPolicy => policy({ attempts: 1 }, () => 0),
  immediate: (o: RetryOptions = {}): RetryPolicy => policy(o, () => 0),
  fixed: (o: RetryOptions & { readonly delayMs: number }): RetryPolicy => policy(o, () => o.delayMs),
  /**
   * Delay `initialMs × factor^(failed−1)`, capped at `maxMs`, then jittered: "full" draws uniformly from
   * [0, d), "equal" from [d/2, d) (AWS's names); "none" keeps d.
   */
  exponential: (
    o: RetryOptions & { readonly initialMs: number; readonly factor?: number; readonly jitter?: Jitter },
  ): RetryPolicy => {
    const random = o.random ?? Math.random;
    const factor = o.factor ?? 2;
    const cap = o.maxMs ?? Number.POSITIVE_INFINITY;
    return policy(o, (failed) => {
      const d = Math.min(cap, o.initialMs * factor ** (failed - 1));
      if (o.jitter === "full") return Math.floor(random() * d);
      if (o.jitter === "equal") return Math.floor(d / 2 + random() * (d / 2));
      return d;
    });
  },
  /** Any delay function of the failed attempt number and its error. */
  custom: (o: RetryOptions & { readonly delayMs: (failed: number, error: unknown) => number }): RetryPolicy =>
    policy(o, o.delayMs),
};

export interface RetryHooks {
  /** Called for each failed attempt (a CircuitOpenError is none), before deciding on a retry, for counters. */
  readonly onFailure?: (error: unknown) => void;
  /** Called before each retry (in process or delayed), for counters. */
  readonly onRetry?: (failed: number, delayMs: number, delayed: boolean) => void;
}

/**
 * Retries failed attempts by `p`. Once attempts are spent (or the error is not retryable) the error
 * propagates, with `ctx.firstFailureMs` set, to the dead-letter middleware.
 */
export function retryMiddleware(p: RetryPolicy, hooks: RetryHooks = {}): Middleware {
  return async (ctx, next) => {
    for (;;) {
      try {
        await next();
        return;
      } catch (error) {
        if (error instanceof CircuitOpenError) throw error;
        hooks.onFailure?.(error);
        if (ctx.signal.aborted) throw error;
        ctx.error = error;
        const now = ctx.clock.nowMs();
        const carried = Number(ctx.delivery.message.headers[HEADER.firstFailureMs]);
        ctx.firstFailureMs ??= Number.isFinite(carried) ? carried : now;
        if (ctx.attempt >= p.attempts || !p.retryable(error)) throw error;
        const delay = p.delayMs(ctx.attempt, error);
        if (delay <= p.inProcessMaxMs) {
          hooks.onRetry?.(ctx.attempt, delay, false);
          if (!(await sleep(ctx.clock, delay, ctx.signal))) throw error;
          ctx.attempt++;
          continue;
        }
        hooks.onRetry?.(ctx.attempt, delay, true);
        const copy = withHeaders(ctx.delivery.message, {
          [HEADER.attempt]: String(ctx.attempt + 1),
          [HEADER.firstFailureMs]: String(ctx.firstFailureMs),
          [HEADER.lastFailureMs]: String(now),
        });
        await ctx.settle("retry", async () => {
          await ctx.transport.publish(ctx.topic, copy, { group: ctx.group, delayMs: delay });
          await ctx.delivery.ack();
        });
        ctx.outcome = "retry-later";
        return;
      }
    }
  };
}
