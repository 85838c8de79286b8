// The kafka:// transport (@platformatic/kafka, pure TypeScript): topic per destination, a consumer group
// per (topic, group), the record key picks the partition (per-key order), acks=all, retry topics per
// group for delayed copies, dead-letter topics. Invariant: publish resolves once every in-sync replica
// has the record (acks -1); the client retries a produce across a broker restart.

import type { Producer } from "@platformatic/kafka";
import type { Clock } from "../../lib/clock.ts";
import { backoffMs } from "../backoff.ts";
import { DUE_HEADER } from "../delay-tiers.ts";
import { checkSubscribeOptions } from "../subscribe-options.ts";
import type {
  Delivery,
  PublishTarget,
  Taken,
  Transport,
  TransportMessage,
  TransportStatus,
  TransportSubscribeOptions,
  TransportSubscription,
} from "../transport.ts";
import { toRecord } from "./kafka-message.ts";
import { KafkaQueue } from "./kafka-queue.ts";
import { KafkaStatus } from "./kafka-status.ts";
import { KafkaSubscription, type KafkaSubscriptionDeps } from "./kafka-subscription.ts";
import { closeNow, kafkaTier, retryTopic } from "./names.ts";

type KafkaLib = typeof import("@platformatic/kafka");

export class KafkaTransport implements Transport {
  readonly system = "kafka";
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly queues = new Map<string, KafkaQueue>();
  private readonly known = new Set<string>();
  private readonly creating = new Map<string, Promise<void>>();
  private readonly deps: KafkaSubscriptionDeps;
  private readonly status = new KafkaStatus();
  private reconnecting = false;
  private closed = false;

  constructor(
    private readonly lib: KafkaLib,
    private readonly brokers: string[],
    private readonly clock: Clock,
    private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>,
    /** Partitions of a topic this transport creates: a group's parallelism (competing consumers) */
    private readonly partitions: number,
  ) {
    const status = this.status;
    this.deps = { lib, brokers, clock, partitions, status, ensureTopics: (t, p) => this.ensureTopics(t, p) };
    // a producer connection the broker closed: say so, and connect again now (with backoff) rather than at
    // the next publish, so `reconnecting` means the transport is trying and `connected` follows when it can
    producer.on("client:broker:disconnect", (e: { broker?: { host: string; port: number } }) => {
      if (this.closed) return;
      status.down(new Error(`kafka: disconnected from ${brokerName(e)}`));
      this.reconnectProducer(0);
    });
    producer.on("client:broker:connect", () => status.up());
  }

  private reconnectProducer(failures: number): void {
    if (this.reconnecting || this.closed) return;
    this.reconnecting = true;
    this.clock.setTimer(backoffMs(failures), () => {
      if (this.closed) return;
      this.producer.metadata({ topics: [], forceUpdate: true }).then(
        () => {
          this.reconnecting = false;
          this.status.up();
        },
        () => {
          this.reconnecting = false;
          this.reconnectProducer(failures + 1);
        },
      );
    });
  }

  /**
   * Creates the topics that do not exist yet with `partitions` partitions (an existing topic keeps its
   * own); retry and dead-letter topics take 1, so each stays in order.
   */
  private ensureTopics(topics: string[], partitions = 1): Promise<void> {
    const missing = topics.filter((t) => !this.known.has(t));
    if (missing.length === 0) return Promise.resolve();
    // one creation per topic at a time: concurrent sends to a new dead-letter topic share it
    return Promise.all(
      missing.map((t) => {
        let p = this.creating.get(t);
        if (p === undefined) {
          p = this.createTopic(t, partitions).finally(() => this.creating.delete(t));
          this.creating.set(t, p);
        }
        return p;
      }),
    ).then(() => undefined);
  }

  private async createTopic(topic: string, partitions: number): Promise<void> {
    const admin = new this.lib.Admin({
      clientId: `spindle-sdk-${process.pid}`,
      bootstrapBrokers: this.brokers,
    });
    try {
      if (!(await admin.listTopics()).includes(topic)) {
        await admin.createTopics({ topics: [topic], partitions, replicas: -1 }).catch(async (e: unknown) => {
          // made meanwhile by another client (TOPIC_ALREADY_EXISTS): fine if it exists now
          if (!(await admin.listTopics()).includes(topic)) throw e;
        });
      }
      this.known.add(topic);
    } finally {
      await admin.close().catch(() => {});
    }
  }

  async publish(topic: string, message: TransportMessage, target?: PublishTarget): Promise<void> {
    if (target?.group === undefined) {
      await this.ensureTopics([topic], this.partitions);
      await this.producer.send({ messages: [toRecord(topic, message)] });
      return;
    }
    const delayMs = Math.max(0, target.delayMs ?? 0);
    const to = retryTopic(topic, target.group, kafkaTier(delayMs));
    await this.ensureTopics([to]);
    await this.producer.send({
      messages: [toRecord(to, message, { [DUE_HEADER]: String(Date.now() + delayMs) })],
    });
  }

  async subscribe(
    topic: string,
    options: TransportSubscribeOptions,
    onDelivery: (d: Delivery) => void,
  ): Promise<TransportSubscription> {
    checkSubscribeOptions(options);
    const sub = new KafkaSubscription(this.deps, topic, options, onDelivery);
    await sub.start();
    this.subscriptions.add(sub);
    sub.onClosed = () => this.subscriptions.delete(sub);
    return sub;
  }

  private queue(name: string): KafkaQueue {
    let q = this.queues.get(name);
    if (q === undefined) {
      q = new KafkaQueue(this.deps, name);
      this.queues.set(name, q);
    }
    return q;
  }

  async send(queue: string, message: TransportMessage): Promise<void> {
    await this.ensureTopics([queue]);
    await this.producer.send({ messages: [toRecord(queue, message)] });
  }

  browse(queue: string, limit: number): Promise<TransportMessage[]> {
    return this.queue(queue).browse(limit);
  }

  take(queue: string, limit: number): Promise<Taken[]> {
    return this.queue(queue).take(limit);
  }

  onStatus(listener: (status: TransportStatus, error?: Error) => void): void {
    this.status.on(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.status.closed();
    for (const s of [...this.subscriptions]) await s.close();
    for (const q of this.queues.values()) await q.close();
    await closeNow(this.producer);
  }
}

function brokerName(e: { broker?: { host: string; port: number } } | undefined): string {
  return e?.broker === undefined ? "a broker" : `${e.broker.host}:${e.broker.port}`;
}
