// The consumer pipeline's shared shape: what each middleware sees of one delivery and how middleware
// compose. Invariant: a delivery is settled once — by the middleware that sets `settled` (dead-lettered,
// sent for a delayed retry, released) or, when none did, by the consumer (ack after success).

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
  /** When the first failure of this message happened (carried across delayed retries), if any. */
  firstFailureMs: number | undefined;
  /** Aborted when this attempt should stop: its timeout passed, or the subscription is closing for good. */
  signal: AbortSignal;
  /** Set once a middleware has settled the delivery itself; the consumer then does not ack it. */
  settled: boolean;
  /** What the handler returned (sent as the reply when the message asks for one). */
  result: unknown;
  /** The inbox's transaction, handed to the handler (Postgres inbox: a pg client inside BEGIN). */
  tx: unknown;
  /** Stops and restarts taking deliveries for the whole subscription (circuit breaker). */
  readonly subscription: { pause(): void; resume(): void; readonly paused: boolean };
}

export type Next = () => Promise<void>;
export type Middleware = (ctx: ConsumeContext, next: Next) => Promise<void>;

/** One function running `middleware` outermost first around `terminal`. */
export function compose(
  middleware: readonly Middleware[],
  terminal: (ctx: ConsumeContext) => Promise<void>,
): (ctx: ConsumeContext) => Promise<void> {
  return (ctx) => {
    const run = (i: number): Promise<void> => {
      const m = middleware[i];
      return m === undefined ? terminal(ctx) : m(ctx, () => run(i + 1));
    };
    return run(0);
  };
}
