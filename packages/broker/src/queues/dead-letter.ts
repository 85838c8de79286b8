// Dead-lettering: a rejected, expired or overflowing message is republished to the queue's DLX with an
// x-death entry. Invariant: the original is settled first; a missing DLX drops the message, as RabbitMQ.

import { createMessage, type HeadersOf, knownHeaders, type Message, type QueuedMessage } from "./message.ts";
import type { EnqueueTarget, Queue } from "./queue.ts";
import type { DeathReason } from "./queue-policy.ts";

export interface Death {
  readonly queue: string;
  readonly reason: DeathReason;
  /** the exchange and routing key the message had when it died */
  readonly exchange: string;
  readonly routingKeys: readonly string[];
  readonly timeMs: number;
}

/** Rewrites the property bytes (x-death, x-first-death-*, expiration removed); only the gateway can. */
export interface DeathCodec {
  addDeath(m: Message, d: Death): { properties: Buffer; headers: Readonly<Record<string, unknown>> };
  /** the header table of stored property bytes, as plain values (for routing after a restart) */
  headersOf(properties: Buffer): Readonly<Record<string, unknown>>;
}

export interface DeadLetterRouter {
  route(exchange: string, routingKey: string, headers: HeadersOf): EnqueueTarget[];
}

export function deadLetter(
  router: DeadLetterRouter,
  codec: DeathCodec,
  from: Queue,
  qm: QueuedMessage,
  reason: DeathReason,
  nowMs: number,
): void {
  const dlx = from.policy.deadLetterExchange;
  if (dlx === undefined) return;
  const m = qm.message;
  const routingKey = from.policy.deadLetterRoutingKey ?? m.routingKey;
  const death: Death = {
    queue: from.name,
    reason,
    exchange: m.exchange,
    routingKeys: [m.routingKey],
    timeMs: nowMs,
  };
  const { properties, headers } = codec.addDeath(m, death);
  const next = createMessage({
    exchange: dlx,
    routingKey,
    properties,
    body: m.body,
    persistent: m.persistent,
  });
  for (const q of router.route(dlx, routingKey, knownHeaders(headers))) {
    // RabbitMQ drops a message that would cycle back to a queue it expired from without a rejection
    if (q === from && reason === "expired") continue;
    q.enqueue(next);
  }
}
