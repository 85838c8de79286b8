// The ConsumeContext of one delivery on its way through a subscription's pipeline, as a class: what is the
// same for every message of the subscription lives once in its scope, so a message costs one object and
// no closures. Invariant: `settled` turns true on the first settle() and stays so.

import type { Message } from "../envelope/envelope.ts";
import type { Clock } from "../lib/clock.ts";
import type { Delivery, Transport, TransportMessage } from "../transports/transport.ts";
import type { ConsumeContext, Outcome } from "./context.ts";
import { tracedSettle } from "./tracing.ts";

/** What every delivery of one subscription shares. */
export interface SubscriptionScope {
  readonly topic: string;
  readonly group: string;
  readonly transport: Transport;
  readonly clock: Clock;
  /** Decodes a received message's body for attempt `attempt` (a body that does not decode rejects). */
  decode(m: TransportMessage, attempt: number): Promise<Message<unknown>>;
  readonly subscription: ConsumeContext["subscription"];
}

export class Processing implements ConsumeContext {
  readonly topic: string;
  readonly group: string;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly subscription: ConsumeContext["subscription"];
  error: unknown = undefined;
  firstFailureMs: number | undefined = undefined;
  settled = false;
  outcome: Outcome | undefined = undefined;
  result: unknown = undefined;
  tx: unknown = undefined;

  constructor(
    private readonly scope: SubscriptionScope,
    readonly delivery: Delivery,
    public signal: AbortSignal,
    public attempt: number,
  ) {
    this.topic = scope.topic;
    this.group = scope.group;
    this.transport = scope.transport;
    this.clock = scope.clock;
    this.subscription = scope.subscription;
  }

  message(): Promise<Message<unknown>> {
    return this.scope.decode(this.delivery.message, this.attempt);
  }

  settle(operation: string, fn: () => Promise<void>): Promise<void> {
    this.settled = true;
    return tracedSettle(this.transport.system, this.topic, operation, fn);
  }
}
