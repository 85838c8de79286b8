// Poison messages that never fail, because they kill the process (or outlive the broker's ack deadline):
// the retry count never moves, so the broker would hand them out forever. A delivery the broker has
// redelivered more than `maxRedeliveries` times goes to the dead-letter queue without its handler being
// called again. Invariant: it is acked only after its dead letter is stored (as dead-letter.ts does).
//
// What counts is the transport's `Delivery.redeliveries`: deliveries that ended unsettled (crash, dropped
// connection, ack deadline), not the SDK's own releases (pause, shutdown, open breaker) where the adapter
// can tell — like RabbitMQ's delivery-limit, NATS max_deliver and Spring's maxAttempts, but decided here so
// the dead letter carries the SDK's reason headers and lands in the subscription's own DLQ.

import { RedeliveryLimitError } from "../errors.ts";
import type { ConsumeContext, Middleware } from "./context.ts";
import { deadLetter } from "./dead-letter.ts";

/** RabbitMQ's quorum-queue delivery-limit default (20) is for crashes of any cause; 5 catches a crash
 * loop sooner while one unlucky restart of a healthy consumer stays far below it. */
export const DEFAULT_MAX_REDELIVERIES = 5;

export interface RedeliveryLimitHooks {
  readonly onDeadLetter?: (error: unknown) => void;
  /** With `deadLetter: false`: the message is acked and dropped; told why. */
  readonly onDrop?: (error: unknown) => void;
}

/** The subscribe option checked: a non-negative integer, or false for no limit. */
export function checkMaxRedeliveries(v: unknown): number | false {
  if (v === undefined) return DEFAULT_MAX_REDELIVERIES;
  if (v === false || (Number.isSafeInteger(v) && (v as number) >= 0)) return v as number | false;
  throw new RangeError(
    `subscribe: maxRedeliveries must be an integer ≥ 0 (or false for no limit), got ${String(v)}`,
  );
}

/** Dead-letters (to `queue`, or drops when false) a delivery redelivered more than `max` times. */
export function redeliveryLimitMiddleware(
  max: number,
  queue: string | false,
  hooks: RedeliveryLimitHooks = {},
): Middleware {
  // not async: a delivery under the limit costs one call, no promise of this layer's own
  return (ctx, next) => {
    const n = ctx.delivery.redeliveries;
    return n === undefined || n <= max ? next() : overLimit(ctx, n, max, queue, hooks);
  };
}

async function overLimit(
  ctx: ConsumeContext,
  n: number,
  max: number,
  queue: string | false,
  hooks: RedeliveryLimitHooks,
): Promise<void> {
  const error = new RedeliveryLimitError(
    `redelivered ${n} times without being settled (maxRedeliveries ${max}): its handler crashed the ` +
      "process or outlived the broker's ack deadline each time",
  );
  ctx.error = error;
  if (queue === false) {
    await ctx.settle("ack", () => ctx.delivery.ack());
    ctx.outcome = "dropped";
    hooks.onDrop?.(error);
    return;
  }
  await deadLetter(ctx, queue, error, hooks);
}
