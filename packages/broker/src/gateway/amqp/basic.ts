// basic.* and confirm.* on one channel: publish with confirms and returns, consumers, acks, get, qos.
// Invariant: a publish is confirmed only after every queue it was routed to has it durably; delivery
// tags rise by one per delivery and each unacked tag is settled exactly once (ack, nack, reject, requeue).

import { randomBytes } from "node:crypto";
import * as amqp from "@spindle/protocol/amqp";
import {
  type HeadersOf,
  type Message,
  type Queue,
  type QueuedMessage,
  REJECTED,
} from "../../queues/index.ts";
import { ChannelConsumer } from "./channel-consumer.ts";
import type { ChannelContext, DeliveryHost, SettledConsumer } from "./channel-context.ts";
import { Confirms } from "./confirms.ts";
import { outgoing } from "./delivery-count.ts";
import { channelError, connectionError } from "./error-map.ts";

const NOTHING_TO_STORE: Promise<unknown> = Promise.resolve();
const REJECTED_PUBLISH: Promise<unknown> = Promise.reject(new Error("rejected by x-overflow"));
REJECTED_PUBLISH.catch(() => undefined);

export interface Unacked {
  readonly queue: Queue;
  readonly qm: QueuedMessage;
  readonly consumer: SettledConsumer | null;
}

export class Basic implements DeliveryHost {
  private nextTag = 1;
  /** by delivery tag; numbers, not bigints, as map keys (2^53 deliveries outlast any channel) */
  readonly unacked = new Map<number, Unacked>();
  private readonly consumers = new Map<string, ChannelConsumer>();
  prefetch = 0;
  globalPrefetch = 0;
  flowActive = true;
  private confirms: Confirms | null = null;
  private lastStored: { readonly parts: Promise<void>[]; readonly all: Promise<unknown> } | null = null;
  /** tx.select'ed: publishes and acks wait here for tx.commit */
  private tx: (() => Promise<void> | void)[] | null = null;

  constructor(private readonly ch: ChannelContext) {}

  /** The channel's consumers, for the management API. */
  consumerList(): readonly ChannelConsumer[] {
    return [...this.consumers.values()];
  }

  get consumerCount(): number {
    return this.consumers.size;
  }

  /** confirm.select'ed: publishes not yet confirmed, else null */
  get unconfirmed(): number | null {
    return this.confirms?.unconfirmed ?? null;
  }

  get transactional(): boolean {
    return this.tx !== null;
  }

  get globalPrefetchReached(): boolean {
    return this.globalPrefetch > 0 && this.unacked.size >= this.globalPrefetch;
  }

  private get vhost() {
    return this.ch.vhost;
  }

  async handle(m: amqp.AmqpMethod): Promise<boolean> {
    switch (m.name) {
      case "basic.qos":
        if (m.args.global) this.globalPrefetch = m.args.prefetchCount;
        else this.prefetch = m.args.prefetchCount;
        this.ch.send(amqp.createMethod("basic.qos-ok", {}));
        this.resume();
        return true;
      case "basic.consume":
        this.consume(m.args);
        return true;
      case "basic.cancel":
        await this.cancel(m.args.consumerTag);
        if (!m.args.nowait)
          this.ch.send(amqp.createMethod("basic.cancel-ok", { consumerTag: m.args.consumerTag }));
        return true;
      case "basic.get":
        await this.get(m.args);
        return true;
      case "basic.recover":
      case "basic.recover-async":
        this.requeueAll();
        if (m.name === "basic.recover") this.ch.send(amqp.createMethod("basic.recover-ok", {}));
        return true;
      case "confirm.select":
        if (this.tx !== null)
          throw channelError(amqp.PRECONDITION_FAILED, "cannot switch from tx to confirm mode");
        this.confirms ??= new Confirms(this.ch);
        if (!m.args.nowait) this.ch.send(amqp.createMethod("confirm.select-ok", {}));
        return true;
      case "tx.select":
        if (this.confirms !== null)
          throw channelError(amqp.PRECONDITION_FAILED, "cannot switch from confirm to tx mode");
        this.tx ??= [];
        this.ch.send(amqp.createMethod("tx.select-ok", {}));
        return true;
      case "tx.commit":
      case "tx.rollback":
        await this.endTx(m.name === "tx.commit");
        return true;
      default:
        return false;
    }
  }

  /** basic.ack/nack/reject: synchronous, so the channel runs them without a promise (one per delivery). */
  settleMethod(
    m: amqp.MethodOf<"basic.ack"> | amqp.MethodOf<"basic.nack"> | amqp.MethodOf<"basic.reject">,
  ): void {
    switch (m.name) {
      case "basic.ack":
        this.inTx(() => this.settle(m.args.deliveryTag, m.args.multiple, (u) => this.ack(u)));
        return;
      case "basic.nack":
        this.inTx(() =>
          this.settle(m.args.deliveryTag, m.args.multiple, (u) => this.reject(u, m.args.requeue)),
        );
        return;
      case "basic.reject":
        this.inTx(() => this.settle(m.args.deliveryTag, false, (u) => this.reject(u, m.args.requeue)));
        return;
    }
  }

  private inTx(fn: () => void): void {
    if (this.tx === null) fn();
    else this.tx.push(fn);
  }

  private async endTx(commit: boolean): Promise<void> {
    if (this.tx === null) throw channelError(amqp.PRECONDITION_FAILED, "channel is not transactional");
    const work = this.tx;
    this.tx = [];
    if (commit) await Promise.all(work.map((fn) => fn()));
    this.ch.send(amqp.createMethod(commit ? "tx.commit-ok" : "tx.rollback-ok", {}));
  }

  publish(a: amqp.MethodArgsByName["basic.publish"], message: Message, headers: HeadersOf): void {
    if (this.tx === null) {
      this.publishNow(a, message, headers);
      return;
    }
    this.vhost.exchange(a.exchange);
    this.tx.push(() =>
      this.publishNow(a, message, headers).then(
        () => undefined,
        () => undefined,
      ),
    );
  }

  /** Routes and enqueues; the promise settles once every queue has stored it. */
  private publishNow(
    a: amqp.MethodArgsByName["basic.publish"],
    message: Message,
    headers: HeadersOf,
  ): Promise<unknown> {
    const ex = this.vhost.exchange(a.exchange);
    if (ex.def.internal) {
      throw channelError(
        amqp.ACCESS_REFUSED,
        `cannot publish to internal exchange '${a.exchange}' in vhost '/'`,
      );
    }
    const queues = this.vhost.route(a.exchange, a.routingKey, headers);
    const returned = queues.length === 0 && a.mandatory;
    this.vhost.stats.published(queues.length, this.confirms !== null, returned);
    if (returned) this.returnUnroutable(a, message);
    let rejected = false;
    const parts: Promise<void>[] = [];
    for (const q of queues) {
      const r = q.enqueue(message);
      if (r === REJECTED) rejected = true;
      else parts.push(r);
    }
    const stored = this.storedInAll(parts);
    if (parts.length > 0) this.ch.trackUnstored(message.body.length * parts.length, stored);
    if (this.confirms !== null) this.confirms.track(rejected ? REJECTED_PUBLISH : stored);
    return stored;
  }

  /** One promise for a publish stored in every queue. Publishes in one turn to the same queues share their
   *  queues' batch promises, so they share this one too (and confirms and credit group by it). */
  private storedInAll(parts: Promise<void>[]): Promise<unknown> {
    if (parts.length === 0) return NOTHING_TO_STORE;
    if (parts.length === 1) return parts[0] as Promise<void>;
    const last = this.lastStored;
    if (last !== null && last.parts.length === parts.length && last.parts.every((p, i) => p === parts[i]))
      return last.all;
    const all = Promise.all(parts);
    this.lastStored = { parts, all };
    return all;
  }

  private returnUnroutable(a: amqp.MethodArgsByName["basic.publish"], message: Message): void {
    const ret = amqp.createMethod("basic.return", {
      replyCode: amqp.NO_ROUTE,
      replyText: "NO_ROUTE",
      exchange: a.exchange,
      routingKey: a.routingKey,
    });
    this.ch.sendContent(ret, message);
  }

  private consume(a: amqp.MethodArgsByName["basic.consume"]): void {
    const q = this.vhost.queue(a.queue === "" ? (this.ch.lastQueue ?? "") : a.queue, this.ch.owner);
    const tag =
      a.consumerTag === "" ? `amq.ctag-${randomBytes(16).toString("base64url").slice(0, 22)}` : a.consumerTag;
    if (this.consumers.has(tag))
      throw connectionError(amqp.NOT_ALLOWED, `attempt to reuse consumer tag '${tag}'`);
    if (q.exclusiveConsumer || (a.exclusive && q.consumerCount > 0)) {
      throw channelError(amqp.ACCESS_REFUSED, `queue '${q.name}' in vhost '/' in exclusive use`);
    }
    this.vhost.touch(q);
    const c = new ChannelConsumer(this.ch, this, q, tag, a.noAck, this.prefetch);
    c.exclusive = a.exclusive;
    this.consumers.set(tag, c);
    if (!a.nowait) this.ch.send(amqp.createMethod("basic.consume-ok", { consumerTag: tag }));
    if (a.exclusive) q.exclusiveConsumer = true;
    q.addConsumer(c);
  }

  private async cancel(tag: string): Promise<void> {
    const c = this.consumers.get(tag);
    if (c === undefined) return;
    await this.detach(c);
  }

  private async detach(c: ChannelConsumer): Promise<void> {
    this.consumers.delete(c.tag);
    const last = c.queue.removeConsumer(c);
    if (c.exclusive) c.queue.exclusiveConsumer = false;
    await this.vhost.consumerGone(c.queue, last);
  }

  /** The queue was deleted under a consumer: tell the client (consumer_cancel_notify). */
  cancelledByQueue(c: SettledConsumer): void {
    this.consumers.delete(c.tag);
    if (this.ch.isOpen && this.ch.cancelNotify) {
      this.ch.send(amqp.createMethod("basic.cancel", { consumerTag: c.tag, nowait: true }));
    }
  }

  private async get(a: amqp.MethodArgsByName["basic.get"]): Promise<void> {
    const q = this.vhost.queue(a.queue === "" ? (this.ch.lastQueue ?? "") : a.queue, this.ch.owner);
    this.vhost.touch(q);
    const qm = await q.get(a.noAck);
    if (qm === null) {
      this.vhost.stats.getEmpty++;
      this.ch.send(amqp.createMethod("basic.get-empty", {}));
      return;
    }
    this.vhost.stats.delivery(q.stats, "get", a.noAck, qm.redelivered);
    const tag = this.track(q, qm, null, a.noAck);
    const method = amqp.createMethod("basic.get-ok", {
      deliveryTag: tag,
      redelivered: qm.redelivered,
      exchange: qm.message.exchange,
      routingKey: qm.message.routingKey,
      messageCount: q.messageCount,
    });
    this.ch.sendContent(method, outgoing(q, qm), a.noAck ? undefined : q.deliveryWritten);
  }

  /** Assigns the next delivery tag; remembers the delivery unless it was sent with no-ack. */
  track(queue: Queue, qm: QueuedMessage, consumer: SettledConsumer | null, noAck: boolean): bigint {
    const tag = this.nextTag++;
    if (!noAck) {
      this.unacked.set(tag, { queue, qm, consumer });
      this.ch.memory?.add("amqpUnacked", qm.message.body.length);
    }
    return BigInt(tag);
  }

  /** A delivery left the unacked map: its message is no longer held for this channel. */
  private settled(u: Unacked): void {
    this.ch.memory?.add("amqpUnacked", -u.qm.message.body.length);
    u.consumer?.settled();
  }

  /** Settles one delivery or (multiple) every one up to the tag; each queue drains as it is settled. */
  private settle(deliveryTag: bigint, multiple: boolean, fn: (u: Unacked) => void): void {
    const tag = Number(deliveryTag);
    if (multiple) {
      for (const [t, u] of this.unacked) {
        if (tag !== 0 && t > tag) break;
        this.unacked.delete(t);
        this.settled(u);
        fn(u);
      }
    } else {
      const u = this.unacked.get(tag);
      if (u === undefined) throw channelError(amqp.PRECONDITION_FAILED, `unknown delivery tag ${tag}`);
      this.unacked.delete(tag);
      this.settled(u);
      fn(u);
    }
    // a channel-wide prefetch may now let this channel's consumers on other queues go on
    if (this.globalPrefetch > 0) this.resume();
  }

  private ack(u: Unacked): void {
    this.vhost.stats.acknowledged++;
    u.queue.ack(u.qm);
  }

  private reject(u: Unacked, requeue: boolean): void {
    if (!requeue) {
      u.queue.reject(u.qm);
      return;
    }
    u.queue.requeue(u.qm);
    u.queue.drain();
  }

  private requeueAll(): void {
    const all = [...this.unacked.values()];
    this.unacked.clear();
    const queues = new Set<Queue>();
    for (const u of all) {
      this.settled(u);
      u.queue.requeue(u.qm);
      queues.add(u.queue);
    }
    for (const q of queues) q.drain();
  }

  setFlow(active: boolean): void {
    this.flowActive = active;
    if (active) this.resume();
  }

  /** Lets every consumer's queue deliver again (after acks, qos changes, socket drain). */
  resume(): void {
    for (const c of this.consumers.values()) c.queue.drain();
  }

  /** Channel is going away: cancel consumers, requeue what was delivered and not acked. */
  cleanup(): void {
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    for (const c of consumers) {
      const last = c.queue.removeConsumer(c);
      if (c.exclusive) c.queue.exclusiveConsumer = false;
      this.vhost.consumerGone(c.queue, last).catch(() => undefined);
    }
    this.requeueAll();
  }
}
