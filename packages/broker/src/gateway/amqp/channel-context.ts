// The narrow views the parts of an AMQP channel hold of each other, so that connection → channel →
// basic/definitions/confirms/consumers import one way only (children never reach through to the connection).

import type * as amqp from "@spindle/protocol/amqp";
import type { MemoryAccount } from "../../lib/index.ts";
import type { Message, Queue, QueuedMessage, Vhost } from "../../queues/index.ts";
import type { ConnectionBodies } from "./body-budget.ts";

/** What a channel uses of its connection. */
export interface ChannelHost {
  readonly id: string;
  readonly vhost: Vhost;
  readonly messageBytesMax: number;
  /** bodies being assembled on the connection's channels, within its and the broker's bounds */
  readonly bodies: ConnectionBodies;
  /** the client asked for basic.cancel when the server cancels a consumer */
  readonly cancelNotify: boolean;
  /** the socket holds more than it should: consumers wait for it to drain */
  readonly backlogged: boolean;
  /** where the memory alarm sees what the connection holds */
  readonly memory: MemoryAccount | undefined;
  send(channel: number, method: amqp.AmqpMethod): void;
  /** `after`: the connection's output from here on waits for it (a delivery's record in its queue). */
  sendContent(channel: number, method: amqp.AmqpMethod, m: Message, after?: Promise<void>): void;
  trackUnstored(bytes: number, stored: Promise<unknown>): void;
  fail(err: unknown, classId: number, methodId: number): void;
  reopenChannel(channel: number): void;
  channelClosed(channel: number, serverClosed: boolean): void;
}

/** What basic.*, queue.*, exchange.*, confirms and consumers use of their channel. */
export interface ChannelContext {
  readonly owner: string;
  readonly isOpen: boolean;
  readonly vhost: Vhost;
  readonly cancelNotify: boolean;
  readonly backlogged: boolean;
  readonly memory: MemoryAccount | undefined;
  /** the queue last declared on this channel: "" in queue.bind, basic.consume and basic.get means it */
  lastQueue: string | undefined;
  send(method: amqp.AmqpMethod): void;
  sendContent(method: amqp.AmqpMethod, m: Message, after?: Promise<void>): void;
  trackUnstored(bytes: number, stored: Promise<unknown>): void;
}

/** What a consumer uses of the channel's basic.* state: flow, the global prefetch and delivery tags. */
export interface DeliveryHost {
  /** channel.flow: false while the client asked the server to stop delivering */
  readonly flowActive: boolean;
  /** the channel-wide (global) prefetch is used up by unacked deliveries */
  readonly globalPrefetchReached: boolean;
  track(queue: Queue, qm: QueuedMessage, consumer: SettledConsumer | null, noAck: boolean): bigint;
  cancelledByQueue(consumer: SettledConsumer): void;
}

/** A consumer as basic.* tracks it: told when one of its deliveries is settled. */
export interface SettledConsumer {
  readonly tag: string;
  settled(): void;
}
