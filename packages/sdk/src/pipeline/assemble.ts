// Builds a subscription's middleware chain from its options, in the one order that makes the patterns
// compose: tracing → redelivery limit → dead letter → retry → rate limit → circuit breaker → inbox → timeout → the
// application's own middleware → handler. Invariant: every attempt passes the limiter, the breaker, the
// inbox and the timeout; only a message's final failure reaches the dead-letter queue.

import type { Clock } from "../lib/clock.ts";
import { CircuitBreaker, type CircuitBreakerOptions, circuitBreakerMiddleware } from "./circuit-breaker.ts";
import type { Middleware } from "./context.ts";
import { deadLetterMiddleware } from "./dead-letter.ts";
import { type InboxStore, inboxMiddleware } from "./inbox.ts";
import {
  makeRateLimiter,
  type RateLimiter,
  type RateLimitOptions,
  rateLimitMiddleware,
} from "./rate-limit.ts";
import { checkMaxRedeliveries, redeliveryLimitMiddleware } from "./redelivery-limit.ts";
import { type RetryPolicy, retry, retryMiddleware } from "./retry.ts";
import type { StatsRecorder } from "./stats.ts";
import { timeoutMiddleware } from "./timeout.ts";
import { tracingMiddleware } from "./tracing.ts";

export interface PipelineOptions {
  /** Retry policy; default 3 attempts, exponential from 1 s with full jitter, at most 10 s. false: none. */
  readonly retry?: RetryPolicy | false;
  /**
   * Dead-letter queue for messages that failed for good; default `<topic>.<group>.dlq`. false drops
   * them (after logging) — only for messages that may be lost.
   */
  readonly deadLetter?: string | false;
  /**
   * A message the broker redelivered more than this many times without it being settled (its handler
   * crashed the process or outlived the ack deadline) is dead-lettered without calling the handler;
   * default 5. false: no limit. See pipeline/redelivery-limit.ts for what each transport counts.
   */
  readonly maxRedeliveries?: number | false;
  /** Pauses the subscription while the downstream keeps failing. */
  readonly circuitBreaker?: CircuitBreakerOptions | CircuitBreaker;
  /** Handler runs per second (token bucket) or per window (sliding window), optionally per key. */
  readonly rateLimit?: RateLimitOptions | RateLimiter;
  /** Skip message ids this group already processed. */
  readonly idempotent?: InboxStore;
  /** Per-attempt handler timeout. */
  readonly timeoutMs?: number;
  /** Extra middleware, run closest to the handler. */
  readonly middleware?: readonly Middleware[];
}

export const DEFAULT_RETRY: RetryPolicy = retry.exponential({
  attempts: 3,
  initialMs: 1_000,
  maxMs: 10_000,
  jitter: "full",
});

export function deadLetterQueueOf(topic: string, group: string, o: PipelineOptions): string | false {
  return o.deadLetter ?? `${topic}.${group}.dlq`;
}

export interface Assembled {
  readonly middleware: Middleware[];
  readonly breaker: CircuitBreaker | undefined;
}

export function assemble(
  topic: string,
  group: string,
  o: PipelineOptions,
  env: { clock: Clock; system: string; stats: StatsRecorder; onDrop: (error: unknown) => void },
): Assembled {
  const { stats } = env;
  const m: Middleware[] = [tracingMiddleware(env.system)];
  const dlq = deadLetterQueueOf(topic, group, o);
  const maxRedeliveries = checkMaxRedeliveries(o.maxRedeliveries);
  if (maxRedeliveries !== false) {
    m.push(
      redeliveryLimitMiddleware(maxRedeliveries, dlq, {
        onDeadLetter: () => stats.add("deadLettered"),
        onDrop: env.onDrop,
      }),
    );
  }
  if (dlq !== false) m.push(deadLetterMiddleware(dlq, { onDeadLetter: () => stats.add("deadLettered") }));
  else {
    m.push(async (ctx, next) => {
      try {
        await next();
      } catch (e) {
        if (ctx.signal.aborted || (e instanceof Error && e.name === "CircuitOpenError")) throw e;
        ctx.outcome = "dropped";
        env.onDrop(e);
      }
    });
  }
  const policy = o.retry === false ? retry.none() : (o.retry ?? DEFAULT_RETRY);
  // failures are counted per attempt, by retry (no layer of their own: one async step less per message)
  m.push(
    retryMiddleware(policy, {
      onFailure: () => stats.add("failed"),
      onRetry: () => stats.add("retried"),
    }),
  );
  if (o.rateLimit !== undefined) m.push(rateLimitMiddleware(makeRateLimiter(env.clock, o.rateLimit)));
  let breaker: CircuitBreaker | undefined;
  if (o.circuitBreaker !== undefined) {
    breaker =
      o.circuitBreaker instanceof CircuitBreaker
        ? o.circuitBreaker
        : new CircuitBreaker(env.clock, o.circuitBreaker);
    m.push(circuitBreakerMiddleware(breaker));
  }
  if (o.idempotent !== undefined)
    m.push(inboxMiddleware(o.idempotent, { onDuplicate: () => stats.add("duplicates") }));
  if (o.timeoutMs !== undefined) m.push(timeoutMiddleware(o.timeoutMs));
  m.push(...(o.middleware ?? []));
  return { middleware: m, breaker };
}
