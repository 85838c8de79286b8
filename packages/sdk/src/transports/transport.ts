// The Transport interface: the one seam between the SDK's patterns and a broker (memory, embedded, amqp,
// kafka, nats). Invariant: the pipeline knows no broker — everything it asks of one is declared here.
//
// Semantics every transport keeps (the contract suite in testing/contract.ts checks them):
// - A *topic* is a named stream of messages. A *group* is a set of competing consumers of a topic: each
//   message published to the topic reaches every group once (pub/sub) and, inside a group, one consumer
//   at a time (work queue). A group is durable: once `subscribe` has resolved for a group, every message
//   published afterwards is kept for it, also while none of its consumers is connected.
// - `publish` resolves once the broker holds the message durably (publisher confirm, acks=all, JetStream
//   ack). A rejected publish rejects the promise.
// - At-least-once: a delivery stays the subscription's until it is settled with ack/release/redeliver; if
//   the connection drops first the broker delivers it again (to any consumer of the group).
// - At most `prefetch` deliveries of a subscription are unsettled at once (the broker stops sending, or
//   the adapter stops fetching): this is the backpressure the pipeline relies on.
// - A *queue* (`send`/`browse`/`take`) is a durable point-to-point store outside any group, read by
//   browsing and taking rather than by subscribing: dead-letter queues live there.
// - Per-key order: Kafka keeps it per partition (the key picks the partition); AMQP and NATS keep
//   publish order per group only while one consumer with prefetch 1 settles in order. Redelivery may
//   reorder on every transport.

import type { Clock } from "../lib/clock.ts";

/** CloudEvents 1.0 context attributes (binary mode) plus extension attributes, as strings. */
export interface CloudEventAttributes {
  readonly specversion: "1.0";
  /** Unique per source: the message id, and the inbox's deduplication key. */
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time?: string;
  readonly subject?: string;
  /** MIME type of `body`; each binding maps it to its protocol's content type. */
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  /**
   * Extension attributes (lower-case a-z0-9 names): `correlationid`, `causationid`, `traceparent`,
   * `tracestate`, `partitionkey` (the message key), `replyto`, and any the application sets.
   */
  readonly extensions: Readonly<Record<string, string>>;
}

/**
 * A message as a transport carries it. Each adapter maps `attributes` to its protocol's headers as the
 * CloudEvents binding for that protocol says (envelope/bindings.ts does the mapping) and passes
 * `headers` through verbatim; `key` is the partition/routing key (Kafka record key).
 */
export interface TransportMessage {
  readonly attributes: CloudEventAttributes;
  /** Application headers and the SDK's own `x-spindle-*` headers (retry and dead-letter facts). */
  readonly headers: Readonly<Record<string, string>>;
  readonly key?: string;
  readonly body: Buffer;
}

/** One message handed to a subscription; settle it exactly once (ack or release). */
export interface Delivery {
  readonly message: TransportMessage;
  /**
   * How many times the broker has delivered this copy before (0 the first time), where the broker
   * counts (AMQP redelivered / x-delivery-count, JetStream numDelivered − 1); undefined where it does
   * not. The SDK's own retry count travels in the `x-spindle-attempt` header instead.
   */
  readonly redeliveries?: number;
  /** Done: the group will not see this copy again. */
  ack(): Promise<void>;
  /**
   * Give it back unprocessed (pause, shutdown): the broker delivers it again soon, to any consumer of
   * the group. Not a failure; retry counts do not change.
   */
  release(): Promise<void>;
}

/**
 * Where a publish goes besides the topic's groups: one group, later. The SDK uses it for long retries (a
 * delayed copy to the failing group, then the original is acked: a crash in between may deliver both)
 * and for redriving dead letters to the group they came from. A delayed copy must be held durably and
 * must not block the messages behind it: AMQP x-delayed-message, or on RabbitMQ a TTL retry queue that
 * dead-letters to the group's queue; Kafka a retry topic per group whose records wait for their due time
 * without holding up the main partition; JetStream a per-group subject whose deliveries are naked with
 * the remaining delay until due. A group that does not exist yet is created by the publish.
 */
export interface PublishTarget {
  readonly group?: string;
  readonly delayMs?: number;
}

export interface TransportSubscribeOptions {
  /** The group of competing consumers; each group gets its own copy of every message. */
  readonly group: string;
  /** Most unsettled deliveries held by this subscription at once (≥ 1). */
  readonly prefetch: number;
  /**
   * A private, non-durable group that disappears with the subscription (request/reply inboxes):
   * AMQP exclusive auto-delete queue, JetStream ephemeral consumer, Kafka: any unused group id.
   */
  readonly temporary?: boolean;
}

export interface TransportSubscription {
  /** Stop taking new deliveries (unsettled ones stay valid); the broker keeps the rest for the group. */
  pause(): void;
  resume(): void;
  /**
   * Stop consuming. Unsettled deliveries are released (the broker redelivers them); resolves when the
   * broker knows this consumer is gone.
   */
  close(): Promise<void>;
  /** Messages of the group not yet delivered, where the broker says (Kafka lag, AMQP queue depth). */
  lag?(): Promise<number | undefined>;
}

/** A message taken from a queue: ack removes it for good, release leaves it there (maybe reordered). */
export interface Taken {
  readonly message: TransportMessage;
  ack(): Promise<void>;
  release(): Promise<void>;
}

export type TransportStatus = "connected" | "reconnecting" | "closed";

export interface Transport {
  /** The URL scheme ("memory", "amqp", …), for logs and span attributes (`messaging.system`). */
  readonly system: string;
  /**
   * Durable publish to every group of `topic` (see the file comment), creating the topic if needed; with
   * `target.group` to that group only, and with `target.delayMs` delivered no sooner than that.
   */
  publish(topic: string, message: TransportMessage, target?: PublishTarget): Promise<void>;
  /**
   * Starts consuming `topic` as a member of `options.group`, creating the group if needed, and calls
   * `onDelivery` for each message. Resolves once the group exists at the broker (messages published
   * after that reach it). `onDelivery` is not awaited; the pipeline settles each delivery later.
   */
  subscribe(
    topic: string,
    options: TransportSubscribeOptions,
    onDelivery: (delivery: Delivery) => void,
  ): Promise<TransportSubscription>;
  /** Durable append to a queue (dead letters), creating it if needed. */
  send(queue: string, message: TransportMessage): Promise<void>;
  /** Up to `limit` messages of a queue, oldest first, without removing them. */
  browse(queue: string, limit: number): Promise<TransportMessage[]>;
  /** Up to `limit` messages taken from the head of a queue; each must be acked or released. */
  take(queue: string, limit: number): Promise<Taken[]>;
  /**
   * Connection state changes. After a drop the adapter reconnects with backoff and resubscribes every
   * open subscription by itself; the SDK only reports the state.
   */
  onStatus?(listener: (status: TransportStatus, error?: Error) => void): void;
  /** Closes the connection; open subscriptions are closed first (their unsettled deliveries released). */
  close(): Promise<void>;
}

/** What `connect()` hands a transport factory. */
export interface TransportContext {
  readonly url: URL;
  /** Every delay and backoff timer of the adapter (delayed copies, reconnect backoff) runs on it. */
  readonly clock: Clock;
}

export type TransportFactory = (context: TransportContext) => Promise<Transport>;
