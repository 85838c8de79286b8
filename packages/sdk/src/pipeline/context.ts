// The consumer pipeline's shared shape: what each middleware sees of one delivery and how middleware
// compose. Invariant: a delivery is settled once — through `settle()` by the middleware that dead-letters
// it or sends it for a delayed retry, or, when none did, by the bus (ack after success).

import type { Message } from "../envelope/envelope.ts";
import type { Clock } from "../lib/clock.ts";
import type { Delivery, Transport } from "../transports/transport.ts";

export interface ConsumeContext {
  readonly topic: string;
  readonly group: string;
  readonly delivery: Delivery;
  readonly transport: Transport;
  readonly clock: Clock;
  /** The message with its data decoded; `attempt` is the current one (the retry middleware moves it). */
  message(): Promise<Message<unknown>>;
  /** 1-based attempt number of the handler call about to run. */
  attempt: number;
  /** The latest attempt's error, if one failed. */
  error: unknown;
  /** When the first failure of this message happened (carried across delayed retries), if any. */
  firstFailureMs: number | undefined;
  /** Aborted when this attempt should stop: its timeout passed, or the subscription is closing for good. */
  signal: AbortSignal;
  /** True once the delivery was settled through `settle()`; the bus then does not ack it. */
  settled: boolean;
  /** What became of the message, for stats and spans. */
  outcome: Outcome | undefined;
  /** Settles the delivery by `fn` (which acks it) inside a settle span named `operation`. */
  settle(operation: string, fn: () => Promise<void>): Promise<void>;
  /** What the handler returned (sent as the reply when the message asks for one). */
  result: unknown;
  /** The inbox's transaction, handed to the handler (Postgres inbox: a pg client inside BEGIN). */
  tx: unknown;
  /** Stops and restarts taking deliveries for the whole subscription (circuit breaker). */
  readonly subscription: { pause(): void; resume(): void; readonly paused: boolean };
}

export type Outcome = "processed" | "duplicate" | "retry-later" | "dead-lettered" | "dropped" | "released";

export type Next = () => Promise<void>;
export type Middleware = (ctx: ConsumeContext, next: Next) => Promise<void>;

/**
 * One function running `middleware` outermost first around `terminal`: the chain is linked once per
 * subscription, so a message costs one `next` closure per layer and nothing else.
 */
export function compose(
  middleware: readonly Middleware[],
  terminal: (ctx: ConsumeContext) => Promise<void>,
): (ctx: ConsumeContext) => Promise<void> {
  let run = terminal;
  for (let i = middleware.length - 1; i >= 0; i--) {
    const m = middleware[i] as Middleware;
    const inner = run;
    run = (ctx) => m(ctx, () => inner(ctx));
  }
  return run;
}
