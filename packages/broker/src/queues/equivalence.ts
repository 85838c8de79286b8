// RabbitMQ's redeclare rules: declaring an existing exchange or queue with other properties is a 406.
// Invariant: only the properties RabbitMQ compares are compared; the message names the first that differs.

import { BrokerError } from "../lib/index.ts";
import { type Args, canonical, type ExchangeDef } from "./exchange.ts";
import type { QueueOptions } from "./queue.ts";

const VHOST = "/";
/** queue arguments RabbitMQ checks on redeclare */
const QUEUE_ARGS = [
  "x-expires",
  "x-message-ttl",
  "x-dead-letter-exchange",
  "x-dead-letter-routing-key",
  "x-max-length",
  "x-max-length-bytes",
  "x-max-priority",
  "x-overflow",
  "x-queue-type",
  "x-single-active-consumer",
  "x-delivery-limit",
];

function show(v: unknown): string {
  return v === undefined ? "none" : `'${typeof v === "string" ? v : canonical(v)}'`;
}

export function exchangeInequivalence(current: ExchangeDef, asked: ExchangeDef): string | null {
  const say = (what: string, got: unknown, cur: unknown) =>
    `inequivalent arg '${what}' for exchange '${current.name}' in vhost '${VHOST}': received ${show(got)} but current is ${show(cur)}`;
  if (current.type !== asked.type) return say("type", asked.type, current.type);
  if (current.durable !== asked.durable) return say("durable", asked.durable, current.durable);
  if (current.autoDelete !== asked.autoDelete)
    return say("auto_delete", asked.autoDelete, current.autoDelete);
  if (current.internal !== asked.internal) return say("internal", asked.internal, current.internal);
  const ae = "alternate-exchange";
  if (canonical(current.args[ae]) !== canonical(asked.args[ae]))
    return say(ae, asked.args[ae], current.args[ae]);
  return null;
}

export function checkQueueEquivalent(
  current: QueueOptions,
  asked: { durable: boolean; exclusive: boolean; autoDelete: boolean; args: Args },
  owner: string,
): void {
  const fail = (what: string, got: unknown, cur: unknown) => {
    throw new BrokerError(
      "PRECONDITION_FAILED",
      `inequivalent arg '${what}' for queue '${current.name}' in vhost '${VHOST}': received ${show(got)} but current is ${show(cur)}`,
    );
  };
  if (current.durable !== asked.durable) fail("durable", asked.durable, current.durable);
  if (current.autoDelete !== asked.autoDelete) fail("auto_delete", asked.autoDelete, current.autoDelete);
  const isExclusive = current.exclusiveOwner !== null;
  if (asked.exclusive !== isExclusive || (isExclusive && current.exclusiveOwner !== owner)) {
    fail("exclusive", asked.exclusive, isExclusive);
  }
  for (const k of QUEUE_ARGS) {
    if (canonical(current.args[k]) !== canonical(asked.args[k])) fail(k, asked.args[k], current.args[k]);
  }
}
