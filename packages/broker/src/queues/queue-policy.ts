// Queue arguments (x-message-ttl, x-expires, x-max-length(-bytes), x-overflow, dead-lettering) parsed and
// checked as RabbitMQ checks them. Invariant: a queue only exists with a policy that parsed.

import { BrokerError } from "../lib/index.ts";
import type { Args } from "./exchange.ts";

export type Overflow = "drop-head" | "reject-publish" | "reject-publish-dlx";
export type DeathReason = "rejected" | "expired" | "maxlen" | "delivery_limit";

export interface QueuePolicy {
  readonly messageTtlMs?: number;
  readonly expiresMs?: number;
  readonly maxLength?: number;
  readonly maxLengthBytes?: number;
  readonly overflow: Overflow;
  readonly deadLetterExchange?: string;
  readonly deadLetterRoutingKey?: string;
  readonly singleActiveConsumer: boolean;
  readonly maxPriority?: number;
  /** requeues after which a message is dead-lettered (reason delivery_limit) */
  readonly deliveryLimit?: number;
}

const OVERFLOWS: readonly Overflow[] = ["drop-head", "reject-publish", "reject-publish-dlx"];

export function parseQueuePolicy(queue: string, args: Args): QueuePolicy {
  const invalid = (arg: string, why: string) =>
    new BrokerError("PRECONDITION_FAILED", `invalid arg '${arg}' for queue '${queue}' in vhost '/': ${why}`);
  const int = (arg: string, min: number): number | undefined => {
    const v = args[arg];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) throw invalid(arg, `{unacceptable_type,${typeof v}}`);
    if (v < min) throw invalid(arg, `{value_${min === 0 ? "negative" : "zero"},${v}}`);
    return v;
  };
  const str = (arg: string): string | undefined => {
    const v = args[arg];
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw invalid(arg, `{unacceptable_type,${typeof v}}`);
    return v;
  };
  const overflow = str("x-overflow") ?? "drop-head";
  if (!(OVERFLOWS as readonly string[]).includes(overflow))
    throw invalid("x-overflow", `{unknown_value,${overflow}}`);
  const dlx = str("x-dead-letter-exchange");
  const dlrk = str("x-dead-letter-routing-key");
  if (dlrk !== undefined && dlx === undefined) {
    throw invalid("x-dead-letter-routing-key", "Missing x-dead-letter-exchange");
  }
  const sac = args["x-single-active-consumer"];
  if (sac !== undefined && typeof sac !== "boolean")
    throw invalid("x-single-active-consumer", `{unacceptable_type,${typeof sac}}`);
  const p: { -readonly [K in keyof QueuePolicy]: QueuePolicy[K] } = {
    overflow: overflow as Overflow,
    singleActiveConsumer: sac === true,
  };
  const maxPriority = int("x-max-priority", 0);
  const deliveryLimit = int("x-delivery-limit", 0);
  if (maxPriority !== undefined) {
    if (maxPriority > 255) throw invalid("x-max-priority", `{value_too_big,${maxPriority}}`);
    p.maxPriority = maxPriority;
  }
  if (deliveryLimit !== undefined) p.deliveryLimit = deliveryLimit;
  const ttl = int("x-message-ttl", 0);
  const expires = int("x-expires", 1);
  const maxLength = int("x-max-length", 0);
  const maxLengthBytes = int("x-max-length-bytes", 0);
  if (ttl !== undefined) p.messageTtlMs = ttl;
  if (expires !== undefined) p.expiresMs = expires;
  if (maxLength !== undefined) p.maxLength = maxLength;
  if (maxLengthBytes !== undefined) p.maxLengthBytes = maxLengthBytes;
  if (dlx !== undefined) p.deadLetterExchange = dlx;
  if (dlrk !== undefined) p.deadLetterRoutingKey = dlrk;
  return p;
}

/** A per-message `expiration` property: a non-negative integer of milliseconds, as a string. */
export function parseExpiration(text: string): number {
  if (!/^\d{1,15}$/.test(text)) {
    throw new BrokerError("PRECONDITION_FAILED", `invalid expiration '${text}': {error,no_integer}`);
  }
  return Number(text);
}
