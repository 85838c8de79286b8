// The amqp:// transport (amqplib; RabbitMQ or Spindle): topics as fanout exchanges, groups as durable
// queues, publisher confirms, delayed copies through x-delayed-message or TTL queues, dead-letter queues
// with basic.get. Invariant: publish resolves only once the broker confirmed; a publish cut off by a
// dropped connection is sent again on the next one (at-least-once: it may arrive twice).

import { setImmediate as tick } from "node:timers/promises";
import type { Clock } from "../../lib/clock.ts";
import { loadPeer } from "../load-peer.ts";
import { checkSubscribeOptions } from "../subscribe-options.ts";
import type {
  Delivery,
  PublishTarget,
  Taken,
  Transport,
  TransportContext,
  TransportMessage,
  TransportStatus,
  TransportSubscribeOptions,
  TransportSubscription,
} from "../transport.ts";
import { toAmqp } from "./amqp-message.ts";
import { AmqpSubscription } from "./amqp-subscription.ts";
import { AmqpConnection } from "./connection.ts";
import { DELAYED_EXCHANGE, groupQueue, topicExchange } from "./names.ts";
import { browse, take } from "./queue-ops.ts";
import type { Session } from "./session.ts";

/** A publish refused by the broker (not a dropped connection) is tried again this often, redeclaring. */
const PUBLISH_TRIES = 3;

type AmqpLib = typeof import("amqplib");

export interface AmqpTransportOptions {
  /** "amqp", or "embedded" when the embedded transport talks AMQP to its own broker */
  readonly system?: string;
  /** Runs once the connection is closed (the embedded transport stops its broker there). */
  readonly afterClose?: () => Promise<void>;
}

export class AmqpTransport implements Transport {
  private readonly subscriptions = new Set<AmqpSubscription>();

  readonly system: string;

  constructor(
    private readonly conn: AmqpConnection,
    private readonly clock: Clock,
    private readonly options: AmqpTransportOptions = {},
  ) {
    this.system = options.system ?? "amqp";
  }

  publish(topic: string, message: TransportMessage, target?: PublishTarget): Promise<void> {
    const s = this.conn.live;
    if (target === undefined && s !== undefined && s.topicReady(topic)) {
      // fast path (every publish after a topic's first): no declaration, no await before the write
      return s
        .publish(topicExchange(topic), message.key ?? "", message.body, toAmqp(message))
        .catch((e: unknown) => {
          if (this.conn.isClosed) throw e;
          return this.withSession((s2) => this.publishOn(s2, topic, message, target));
        });
    }
    return this.withSession((s2) => this.publishOn(s2, topic, message, target));
  }

  private async publishOn(
    s: Session,
    topic: string,
    m: TransportMessage,
    target?: PublishTarget,
  ): Promise<void> {
    if (target?.group === undefined) {
      await s.ensureTopic(topic);
      return s.publish(topicExchange(topic), m.key ?? "", m.body, toAmqp(m));
    }
    const queue = groupQueue(topic, target.group);
    await s.ensureGroup(topic, target.group);
    const delayMs = Math.ceil(target.delayMs ?? 0);
    if (delayMs <= 0) return s.publish("", queue, m.body, toAmqp(m));
    if (s.delayedExchange)
      return s.publish(DELAYED_EXCHANGE, queue, m.body, toAmqp(m, { "x-delay": delayMs }));
    const waitIn = await s.ensureTtlQueue(queue, delayMs);
    return s.publish("", waitIn, m.body, { ...toAmqp(m), expiration: String(delayMs) });
  }

  /**
   * Runs `op` on the live session. A dropped connection: again on the next one, however often. A refusal
   * on a live connection (a channel error: someone deleted an exchange): again with fresh declarations.
   */
  private async withSession<T>(op: (s: Session) => Promise<T>): Promise<T> {
    for (let refused = 0; ; ) {
      const s = await this.conn.session();
      try {
        return await op(s);
      } catch (e) {
        if (this.conn.isClosed) throw e;
        await tick(); // the connection's close event may trail the failed call
        if (s.dead) continue;
        if (++refused >= PUBLISH_TRIES) throw e;
        s.forget();
      }
    }
  }

  async subscribe(
    topic: string,
    options: TransportSubscribeOptions,
    onDelivery: (d: Delivery) => void,
  ): Promise<TransportSubscription> {
    checkSubscribeOptions(options);
    const sub = new AmqpSubscription(this.conn, this.clock, topic, options, onDelivery);
    await sub.start();
    this.subscriptions.add(sub);
    sub.onClosed = () => this.subscriptions.delete(sub);
    return sub;
  }

  async send(queue: string, message: TransportMessage): Promise<void> {
    await this.withSession(async (s) => {
      await s.ensureQueue(queue);
      await s.publish("", queue, message.body, toAmqp(message));
    });
  }

  browse(queue: string, limit: number): Promise<TransportMessage[]> {
    return this.withSession((s) => browse(s, queue, limit));
  }

  take(queue: string, limit: number): Promise<Taken[]> {
    return this.withSession((s) => take(s, queue, limit));
  }

  onStatus(listener: (status: TransportStatus, error?: Error) => void): void {
    this.conn.onStatus(listener);
  }

  async close(): Promise<void> {
    if (this.conn.isClosed) return;
    for (const s of [...this.subscriptions]) await s.close();
    await this.conn.close();
    await this.options.afterClose?.();
  }
}

/**
 * Whether the broker has the `x-delayed-message` exchange type: Spindle says so by its product name;
 * otherwise it is asked on a connection of its own, because RabbitMQ answers an unknown exchange type by
 * closing the whole connection (503 COMMAND_INVALID).
 */
async function hasDelayedExchange(amqp: AmqpLib, url: string, product: unknown): Promise<boolean> {
  if (product === "Spindle") return true;
  const model = await amqp.connect(url);
  model.on("error", () => {});
  try {
    const ch = await model.createChannel();
    ch.on("error", () => {});
    await ch.assertExchange(DELAYED_EXCHANGE, "x-delayed-message", {
      durable: true,
      arguments: { "x-delayed-type": "direct" },
    });
    return true;
  } catch {
    return false;
  } finally {
    await model.close().catch(() => {});
  }
}

/** amqp://user:pass@host:port/vhost (and amqps://): connects once now, and again after every drop. */
export async function createAmqpTransport(
  context: TransportContext,
  options: AmqpTransportOptions = {},
): Promise<Transport> {
  const amqp = await loadPeer("amqplib", context.url.protocol.slice(0, -1), () => import("amqplib"));
  const url = context.url.href;
  const conn = new AmqpConnection(amqp, url, context.clock);
  await conn.start(async (product) => await hasDelayedExchange(amqp, url, product));
  return new AmqpTransport(conn, context.clock, options);
}
