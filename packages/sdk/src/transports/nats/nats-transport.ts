// The nats:// transport (@nats-io/transport-node + @nats-io/jetstream): a stream per topic with interest
// retention (a message stays until every group's consumer acked it), a durable consumer per group,
// pull-based backpressure, delayed copies naked until due, dead-letter queues as work-queue streams.
// Invariant: publish resolves on JetStream's PubAck (stored); no message id is set, so JetStream's
// duplicate window never drops a retry or a redrive that reuses the CloudEvents id.

import type { JetStreamClient, JetStreamManager, MsgRequest } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { type Clock, sleep } from "../../lib/clock.ts";
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
import {
  checkGroup,
  checkTopic,
  groupConsumers,
  groupSubject,
  queueStream,
  queueSubject,
  TAKE_CONSUMER,
  topicStream,
  topicSubjects,
} from "./names.ts";
import { fromNats, toNats } from "./nats-message.ts";
import { NatsSubscription } from "./nats-subscription.ts";

type JsLib = typeof import("@nats-io/jetstream");
type NatsLib = typeof import("@nats-io/transport-node");

/** Unacked deliveries a group's consumer may have out (its members' prefetch is what actually limits). */
const MAX_ACK_PENDING = 10_000;
const ACK_WAIT_NS = 30_000_000_000;
/** A publish that timed out is sent again this many times (each waits the client's 5 s request timeout). */
const PUBLISH_TRIES = 5;

export class NatsTransport implements Transport {
  readonly system = "nats";
  private readonly ensured = new Map<string, Promise<unknown>>();
  private readonly subscriptions = new Set<NatsSubscription>();
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly lib: { js: JsLib; nats: NatsLib },
    private readonly clock: Clock,
  ) {}

  /** Runs `make` once per key (again after it failed). */
  private once<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.ensured.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      p = make();
      this.ensured.set(key, p);
      p.catch(() => this.ensured.get(key) === p && this.ensured.delete(key));
    }
    return p;
  }

  private async addStream(config: Parameters<JetStreamManager["streams"]["add"]>[0]): Promise<void> {
    const name = config.name as string;
    try {
      await this.jsm.streams.info(name);
    } catch {
      await this.jsm.streams.add(config).catch(async (e: unknown) => {
        await this.jsm.streams.info(name).catch(() => Promise.reject(e)); // made meanwhile by another client
      });
    }
  }

  ensureTopic(topic: string): Promise<void> {
    checkTopic(topic);
    const { RetentionPolicy, StorageType } = this.lib.js;
    return this.once(`t:${topic}`, () =>
      this.addStream({
        name: topicStream(topic),
        subjects: topicSubjects(topic),
        retention: RetentionPolicy.Interest,
        storage: StorageType.File,
      }),
    );
  }

  private async addConsumer(topic: string, name: string, filter: string): Promise<void> {
    const stream = topicStream(topic);
    if (await this.jsm.consumers.info(stream, name).catch(() => undefined)) return;
    const { AckPolicy, DeliverPolicy } = this.lib.js;
    await this.jsm.consumers.add(stream, {
      durable_name: name,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      ack_wait: ACK_WAIT_NS,
      max_ack_pending: MAX_ACK_PENDING,
      max_deliver: -1,
    });
  }

  /** The group's two durable consumers, made if missing; their names. */
  async ensureGroup(topic: string, group: string): Promise<{ main: string; targeted: string }> {
    checkGroup(group);
    await this.ensureTopic(topic);
    const names = groupConsumers(group);
    await this.once(`g:${topic}:${group}`, async () => {
      await this.addConsumer(topic, names.main, topic);
      await this.addConsumer(topic, names.targeted, groupSubject(topic, group));
    });
    return names;
  }

  /** A consumer of the topic that the server forgets once unused (request/reply inboxes). */
  async ephemeralConsumer(topic: string): Promise<string> {
    await this.ensureTopic(topic);
    const { AckPolicy, DeliverPolicy } = this.lib.js;
    const info = await this.jsm.consumers.add(topicStream(topic), {
      filter_subject: topic,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      inactive_threshold: 30_000_000_000,
    });
    return info.name;
  }

  consumer(topic: string, name: string) {
    return this.js.consumers.get(topicStream(topic), name);
  }

  async deleteConsumer(topic: string, name: string): Promise<void> {
    await this.jsm.consumers.delete(topicStream(topic), name).catch(() => {});
  }

  /** A private topic (a bus's reply topic) goes with its only subscription: its stream is deleted. */
  async dropTopic(topic: string): Promise<void> {
    this.ensured.delete(`t:${topic}`);
    await this.jsm.streams.delete(topicStream(topic)).catch(() => {});
  }

  async publish(topic: string, message: TransportMessage, target?: PublishTarget): Promise<void> {
    await this.ensureTopic(topic);
    let subject = topic;
    const extra: Record<string, string> = {};
    if (target?.group !== undefined) {
      await this.ensureGroup(topic, target.group);
      subject = groupSubject(topic, target.group);
      const delayMs = target.delayMs ?? 0;
      if (delayMs > 0) extra[DUE_HEADER] = String(Date.now() + delayMs);
    }
    const headers = toNats(this.lib.nats.headers, message, extra);
    await this.retried(() => this.js.publish(subject, message.body, { headers }));
  }

  /**
   * A publish made while the connection is down can time out waiting for its PubAck although the
   * client reconnects: it is sent again (at-least-once; no message id, so JetStream keeps both).
   */
  private async retried<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (e) {
        const lost = (e as Error).name === "TimeoutError";
        if (this.closed || !lost || attempt >= PUBLISH_TRIES) throw e;
        await sleep(this.clock, backoffMs(attempt));
      }
    }
  }

  async subscribe(
    topic: string,
    options: TransportSubscribeOptions,
    onDelivery: (d: Delivery) => void,
  ): Promise<TransportSubscription> {
    checkSubscribeOptions(options);
    const sub = new NatsSubscription(this, this.clock, topic, options, onDelivery);
    await sub.start();
    this.subscriptions.add(sub);
    sub.onClosed = () => this.subscriptions.delete(sub);
    return sub;
  }

  private ensureQueue(queue: string): Promise<void> {
    checkTopic(queue);
    const { AckPolicy, RetentionPolicy, StorageType } = this.lib.js;
    return this.once(`q:${queue}`, async () => {
      await this.addStream({
        name: queueStream(queue),
        subjects: [queueSubject(queue)],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
      });
      const stream = queueStream(queue);
      if (await this.jsm.consumers.info(stream, TAKE_CONSUMER).catch(() => undefined)) return;
      await this.jsm.consumers.add(stream, {
        durable_name: TAKE_CONSUMER,
        ack_policy: AckPolicy.Explicit,
        ack_wait: ACK_WAIT_NS,
      });
    });
  }

  async send(queue: string, message: TransportMessage): Promise<void> {
    await this.ensureQueue(queue);
    await this.js.publish(queueSubject(queue), message.body, {
      headers: toNats(this.lib.nats.headers, message),
    });
  }

  /** Reads stored messages by sequence (direct gets: nothing is delivered or acked). */
  async browse(queue: string, limit: number): Promise<TransportMessage[]> {
    await this.ensureQueue(queue);
    const out: TransportMessage[] = [];
    let seq = 1;
    while (out.length < limit) {
      // STREAM.MSG.GET takes next_by_subj (server 2.9+: skips deleted sequences); the client types it for
      // direct gets only
      const req = { seq, next_by_subj: queueSubject(queue) } as MsgRequest;
      const m = await this.jsm.streams.getMessage(queueStream(queue), req);
      if (m === null) break;
      out.push(fromNats(m.header, m.data));
      seq = m.seq + 1;
    }
    return out;
  }

  async take(queue: string, limit: number): Promise<Taken[]> {
    await this.ensureQueue(queue);
    const c = await this.js.consumers.get(queueStream(queue), TAKE_CONSUMER);
    // the work-queue stream holds every message not yet acked; the consumer's num_pending leaves out
    // released (nak'd) ones, which would then never be taken again
    const held = (await this.jsm.streams.info(queueStream(queue))).state.messages;
    const n = Math.min(limit, held);
    if (n <= 0) return [];
    const out: Taken[] = [];
    for await (const m of await c.fetch({ max_messages: n, expires: 2_000 })) {
      let done = false;
      const settle = async (fn: () => unknown) => {
        if (done) return;
        done = true;
        await fn();
      };
      out.push({
        message: fromNats(m.headers, m.data),
        ack: () => settle(() => m.ackAck()),
        release: () => settle(() => m.nak()),
      });
    }
    return out;
  }

  onStatus(listener: (status: TransportStatus, error?: Error) => void): void {
    void (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === "disconnect")
          listener("reconnecting", new Error(`nats: disconnected from ${s.server}`));
        else if (s.type === "reconnect") listener("connected");
      }
    })();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.subscriptions]) await s.close();
    await this.nc.close();
  }
}
