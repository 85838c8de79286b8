// One subscription's consumer on its own channel: basic.qos = prefetch (the broker stops sending at that
// many unacked), acks batched per event-loop turn (ack-batcher.ts), requeue per delivery, pause as basic.cancel, and re-attach on a new connection.
// Invariant: a delivery is settled only on the channel it came on; once that channel is gone the settle
// is a no-op, because the broker has already put the message back for the group.
//
// Redeliveries are counted for the pipeline's redelivery limit: a classic queue only flags them, so a
// flagged delivery is republished to the group's queue with the SDK's count raised by one (then acked) and
// the copy is what the handler gets. Releases by this subscription (pause, shutdown, open breaker) are
// remembered by message id and not counted.

import type { Channel, ConsumeMessage } from "amqplib";
import type { Clock } from "../../lib/clock.ts";
import { backoffMs } from "../backoff.ts";
import type { Delivery, TransportSubscribeOptions, TransportSubscription } from "../transport.ts";
import { AckBatcher } from "./ack-batcher.ts";
import { fromAmqp, idOf, needsRecount, recounted, redeliveries } from "./amqp-message.ts";
import type { AmqpConnection } from "./connection.ts";
import { groupQueue, topicExchange } from "./names.ts";
import type { Session } from "./session.ts";

/** Released message ids remembered at most (the oldest are forgotten: their redelivery then counts). */
const RELEASED_MAX = 10_000;

export class AmqpSubscription implements TransportSubscription {
  private channel: Channel | undefined;
  private queue = "";
  private consumerTag: string | undefined;
  private paused = false;
  private closed = false;
  private failures = 0;
  /** The current channel's acks, sent together at the end of each event-loop turn. */
  private acks: { ch: Channel; batcher: AckBatcher } | undefined;
  /** Message ids this subscription released (handed back itself): their redelivery is not counted. */
  private readonly released = new Set<string>();
  private readonly onReconnect = (s: Session) => void this.attachOrRetry(s);
  /** Told once close() begins (the transport forgets the subscription). */
  onClosed: () => void = () => {};

  constructor(
    private readonly conn: AmqpConnection,
    private readonly clock: Clock,
    readonly topic: string,
    readonly options: TransportSubscribeOptions,
    private readonly onDelivery: (d: Delivery) => void,
  ) {}

  /** Attaches on the live connection; the subscription then follows reconnects by itself. */
  async start(): Promise<void> {
    await this.attach(await this.conn.session());
    this.conn.reconnected.add(this.onReconnect);
  }

  private async attach(s: Session): Promise<void> {
    const ch = await s.channel();
    try {
      await ch.prefetch(this.options.prefetch);
      if (this.options.temporary) {
        await s.ensureTopic(this.topic);
        this.queue = (await ch.assertQueue("", { exclusive: true, autoDelete: true, durable: false })).queue;
        await ch.bindQueue(this.queue, topicExchange(this.topic), "");
      } else {
        this.queue = groupQueue(this.topic, this.options.group);
        await s.ensureGroup(this.topic, this.options.group);
      }
    } catch (e) {
      await ch.close().catch(() => {});
      throw e;
    }
    this.channel = ch;
    // a channel closed under us (not by close()) while the connection lives: come back on a new one
    ch.on("close", () => {
      if (this.channel === ch) this.channel = undefined;
      if (!this.closed && !s.dead) this.retryLater(s);
    });
    if (!this.paused) await this.consume(ch);
  }

  private async attachOrRetry(s: Session): Promise<void> {
    if (this.closed || s.dead) return;
    try {
      await this.attach(s);
      this.failures = 0;
    } catch {
      this.retryLater(s);
    }
  }

  private retryLater(s: Session): void {
    this.clock.setTimer(backoffMs(this.failures++), () => void this.attachOrRetry(s));
  }

  private async consume(ch: Channel): Promise<void> {
    const { consumerTag } = await ch.consume(this.queue, (msg) => {
      // null: the broker cancelled us (queue deleted); the channel stays, so attach again
      if (msg === null) {
        if (this.channel === ch) void ch.close().catch(() => {});
        return;
      }
      const acks = this.acksOf(ch);
      acks.delivered(msg);
      if (needsRecount(msg) && !this.options.temporary && !this.releasedByUs(msg)) {
        void this.recount(ch, msg, acks);
        return;
      }
      this.onDelivery(this.delivery(ch, msg, acks));
    });
    this.consumerTag = consumerTag;
  }

  private releasedByUs(msg: ConsumeMessage): boolean {
    const id = idOf(msg);
    return id !== undefined && this.released.delete(id);
  }

  /** The copy with the count goes to the back of the queue; the original is acked once it is confirmed. */
  private async recount(ch: Channel, msg: ConsumeMessage, acks: AckBatcher): Promise<void> {
    try {
      const s = await this.conn.session();
      await s.publish("", this.queue, msg.content, recounted(msg));
    } catch {
      return; // not acked: the broker delivers it again
    }
    if (this.channel !== ch) return; // the channel went: the broker requeued the original (a duplicate)
    acks.ack(msg);
  }

  /** The channel's ack batcher (one per channel: delivery tags are the channel's). */
  private acksOf(ch: Channel): AckBatcher {
    if (this.acks?.ch !== ch) this.acks = { ch, batcher: new AckBatcher(ch) };
    return this.acks.batcher;
  }

  private remember(msg: ConsumeMessage): void {
    const id = idOf(msg);
    if (id === undefined) return;
    this.released.add(id);
    if (this.released.size > RELEASED_MAX)
      this.released.delete(this.released.values().next().value as string);
  }

  private delivery(ch: Channel, msg: ConsumeMessage, acks: AckBatcher): Delivery {
    let settled = false;
    const settle = (fn: () => void): Promise<void> => {
      if (settled || this.channel !== ch) return Promise.resolve();
      settled = true;
      try {
        fn();
      } catch {
        // the channel closed between the check and the call: the broker requeued it already
      }
      return Promise.resolve();
    };
    return {
      message: fromAmqp(msg),
      redeliveries: redeliveries(msg),
      ack: () => settle(() => acks.ack(msg)),
      release: () =>
        settle(() => {
          this.remember(msg);
          acks.release(msg);
        }),
    };
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    const ch = this.channel;
    const tag = this.consumerTag;
    this.consumerTag = undefined;
    if (ch !== undefined && tag !== undefined) void ch.cancel(tag).catch(() => {});
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const ch = this.channel;
    if (ch !== undefined && this.consumerTag === undefined) void this.consume(ch).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClosed();
    this.conn.reconnected.delete(this.onReconnect);
    const ch = this.channel;
    this.channel = undefined;
    // the acks of this turn first: closing the channel would hand those messages back as well
    if (ch !== undefined && this.acks?.ch === ch) this.acks.batcher.flush();
    // closing the channel hands every unacked delivery back to the group's queue
    if (ch !== undefined) await ch.close().catch(() => {});
    // a temporary topic is this bus's own (request/reply): left behind, each bus would leave an exchange
    if (this.options.temporary) await this.conn.live?.dropTopic(this.topic).catch(() => {});
  }

  async lag(): Promise<number | undefined> {
    const s = await this.conn.session();
    const ch = await s.channel();
    try {
      return (await ch.checkQueue(this.queue)).messageCount;
    } finally {
      await ch.close().catch(() => {});
    }
  }
}
