// What the AMQP adapter calls things at the broker: one exchange per topic, one durable queue per (topic,
// group), the delayed-message exchange and the TTL delay queues. Invariant: the same topic and group give
// the same names on every connection and every process, so competing consumers meet in one queue.

import { delayTier } from "../delay-tiers.ts";

/** The fanout exchange of a topic: every group's queue is bound to it, so each group gets a copy. */
export function topicExchange(topic: string): string {
  return topic;
}

/** The durable queue a group's competing consumers share (Spring Cloud Stream's `destination.group`). */
export function groupQueue(topic: string, group: string): string {
  return `${topic}.${group}`;
}

/**
 * Where delayed copies wait when the broker has `x-delayed-message` (Spindle; RabbitMQ with the plugin):
 * a direct exchange that releases each copy to the queue named by its routing key.
 */
export const DELAYED_EXCHANGE = "spindle.delayed";

/**
 * RabbitMQ without the plugin: a copy due in `delayMs` for queue `target` waits in a queue per (tier,
 * target) with a per-message TTL of its delay, and is dead-lettered back to `target` when it expires.
 */
export function ttlQueue(target: string, delayMs: number): { name: string; tierMs: number } {
  const tierMs = delayTier(delayMs);
  return { name: `spindle.delay.${tierMs}.${target}`, tierMs };
}
