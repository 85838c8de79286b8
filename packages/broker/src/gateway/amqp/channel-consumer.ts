// A basic.consume subscription: the queue asks it whether it can take a message and hands it over.
// Invariant: at most `prefetch` unacked deliveries per consumer (and the channel's global limit).

import type * as amqp from "@spindle/protocol/amqp";
import type { Queue, QueueConsumer, QueuedMessage } from "../../queues/index.ts";
import type { ChannelContext, DeliveryHost } from "./channel-context.ts";
import { outgoing } from "./delivery-count.ts";

export class ChannelConsumer implements QueueConsumer {
  private inFlight = 0;
  exclusive = false;

  constructor(
    private readonly ch: ChannelContext,
    private readonly basic: DeliveryHost,
    readonly queue: Queue,
    readonly tag: string,
    readonly noAck: boolean,
    /** per-consumer prefetch (basic.qos before the consume); 0 = none */
    readonly prefetch: number,
  ) {}

  ready(): boolean {
    if (!this.ch.isOpen || !this.basic.flowActive || this.ch.backlogged) return false;
    if (this.noAck) return true;
    if (this.prefetch > 0 && this.inFlight >= this.prefetch) return false;
    return !this.basic.globalPrefetchReached;
  }

  deliver(qm: QueuedMessage): void {
    const tag = this.basic.track(this.queue, qm, this, this.noAck);
    this.ch.vhost.stats.delivery(this.queue.stats, "consume", this.noAck, qm.redelivered);
    if (!this.noAck) this.inFlight++;
    // Built whole rather than through createMethod: its spread of defaults costs on every delivery.
    const method: amqp.AmqpMethod = {
      name: "basic.deliver",
      args: {
        consumerTag: this.tag,
        deliveryTag: tag,
        redelivered: qm.redelivered,
        exchange: qm.message.exchange,
        routingKey: qm.message.routingKey,
      },
    };
    // with an ack to come, the frames leave once the queue has written that it handed the message out
    this.ch.sendContent(
      method,
      outgoing(this.queue, qm),
      this.noAck ? undefined : this.queue.deliveryWritten,
    );
  }

  /** One of this consumer's deliveries was acked, rejected or requeued. */
  settled(): void {
    this.inFlight--;
  }

  cancelledByQueue(): void {
    this.basic.cancelledByQueue(this);
  }
}
