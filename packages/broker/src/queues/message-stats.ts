// Message counters: the broker-wide totals (RabbitMQ's rabbitmq_global_messages_*_total) and each queue's
// (the management API's message_stats). Plain numbers bumped on the hot path; readers sample them.
// Invariant: counters only grow; a rate is the difference of two samples, taken by whoever reads them.

import type { DeathReason } from "./queue-policy.ts";

/** One queue's counters, named as the management API's `message_stats` fields. */
export interface QueueCounters {
  /** messages enqueued (published or dead-lettered into the queue) */
  publish: number;
  /** deliveries to consumers, with and without acks */
  deliver: number;
  deliverNoAck: number;
  /** basic.get answers, with and without acks */
  get: number;
  getNoAck: number;
  /** deliveries (consume or get) of a message delivered before */
  redeliver: number;
  ack: number;
}

export function queueCounters(): QueueCounters {
  return { publish: 0, deliver: 0, deliverNoAck: 0, get: 0, getNoAck: 0, redeliver: 0, ack: 0 };
}

/** The broker-wide totals, named as RabbitMQ's Prometheus counters (rabbitmq_global_messages_<name>_total). */
export class MessageStats {
  /** publishes that arrived (AMQP basic.publish, HTTP publish) */
  received = 0;
  /** of those, on a channel in confirm mode */
  receivedConfirm = 0;
  /** routed to at least one queue */
  routed = 0;
  /** routed nowhere and dropped (not mandatory) */
  unroutableDropped = 0;
  /** routed nowhere and returned to the publisher (mandatory) */
  unroutableReturned = 0;
  /** publisher confirms sent (basic.ack) */
  confirmed = 0;
  /** deliveries to consumers and basic.get answers */
  delivered = 0;
  deliveredConsumeAutoAck = 0;
  deliveredConsumeManualAck = 0;
  deliveredGetAutoAck = 0;
  deliveredGetManualAck = 0;
  getEmpty = 0;
  redelivered = 0;
  acknowledged = 0;
  /** messages that left a queue through its dead-letter exchange, by reason */
  readonly deadLettered: Record<DeathReason, number> = {
    rejected: 0,
    expired: 0,
    maxlen: 0,
    delivery_limit: 0,
  };

  /** A delivery out of `q` (consume or get); counted both broker-wide and on the queue. */
  delivery(q: QueueCounters, kind: "consume" | "get", noAck: boolean, redelivered: boolean): void {
    this.delivered++;
    if (kind === "consume") {
      if (noAck) {
        this.deliveredConsumeAutoAck++;
        q.deliverNoAck++;
      } else {
        this.deliveredConsumeManualAck++;
        q.deliver++;
      }
    } else if (noAck) {
      this.deliveredGetAutoAck++;
      q.getNoAck++;
    } else {
      this.deliveredGetManualAck++;
      q.get++;
    }
    if (redelivered) {
      this.redelivered++;
      q.redeliver++;
    }
  }

  /** A publish routed to `queues` queues; `returned` when it was mandatory and went back. */
  published(queues: number, confirm: boolean, returned: boolean): void {
    this.received++;
    if (confirm) this.receivedConfirm++;
    if (queues > 0) this.routed++;
    else if (returned) this.unroutableReturned++;
    else this.unroutableDropped++;
  }
}
