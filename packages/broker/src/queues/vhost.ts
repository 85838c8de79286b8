// The virtual host "/": exchanges, queues and bindings, their durable definitions, and routing.
// Invariant: a durable entity is in the meta store before its declare resolves; a binding is durable
// only when both ends are; exclusive queues are visible to their owning connection only.

import { randomBytes } from "node:crypto";
import type { Clock, TimerHandle } from "../lib/index.ts";
import { BrokerError } from "../lib/index.ts";
import type { MetaStore } from "../meta/index.ts";
import { type DeathCodec, deadLetter } from "./dead-letter.ts";
import { DELAYED_TYPE, DelayedMessages, delayedQueueName, delayOf } from "./delayed.ts";
import { checkQueueEquivalent, exchangeInequivalence } from "./equivalence.ts";
import {
  type Args,
  type Binding,
  bindingId,
  canonical,
  Exchange,
  type ExchangeDef,
  isExchangeType,
} from "./exchange.ts";
import { type HeadersOf, headersOnce } from "./message.ts";
import { MessageStats } from "./message-stats.ts";
import type { EnqueueTarget, Queue, QueueOptions } from "./queue.ts";
import { parseQueuePolicy } from "./queue-policy.ts";
import type { QueueStore } from "./queue-store.ts";

export const VHOST = "/";
const BUILTIN: ReadonlyArray<[string, ExchangeDef["type"]]> = [
  ["", "direct"],
  ["amq.direct", "direct"],
  ["amq.fanout", "fanout"],
  ["amq.topic", "topic"],
  ["amq.headers", "headers"],
  ["amq.match", "headers"],
];

export interface QueueDeclare {
  readonly name: string;
  readonly passive: boolean;
  readonly durable: boolean;
  readonly exclusive: boolean;
  readonly autoDelete: boolean;
  readonly args: Args;
}

const notFound = (what: string, name: string) =>
  new BrokerError("NOT_FOUND", `no ${what} '${name}' in vhost '${VHOST}'`);

export class Vhost {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  /** broker-wide message counters (one vhost today) */
  readonly stats = new MessageStats();

  private readonly expiryTimers = new Map<Queue, TimerHandle>();
  /** the held messages of x-delayed-message exchanges, by exchange name */
  private readonly delayed = new Map<string, DelayedMessages>();

  private constructor(
    private readonly meta: MetaStore,
    private readonly store: QueueStore,
    private readonly codec: DeathCodec,
    private readonly clock: Clock,
  ) {
    for (const [name, type] of BUILTIN) {
      this.exchanges.set(
        name,
        new Exchange({ name, type, durable: true, autoDelete: false, internal: false, args: {} }),
      );
    }
  }

  /** Loads durable exchanges, queues (recovering their logs) and bindings. */
  static async open(meta: MetaStore, store: QueueStore, codec: DeathCodec, clock: Clock): Promise<Vhost> {
    const v = new Vhost(meta, store, codec, clock);
    const delayed: ExchangeDef[] = [];
    for (const [, def] of meta.list("exchange")) {
      const d = def as ExchangeDef;
      v.exchanges.set(d.name, new Exchange(d));
      if (d.type === DELAYED_TYPE) delayed.push(d);
    }
    for (const [, def] of meta.list("queue")) {
      const d = def as QueueOptions;
      const q = await store.open(d, true);
      v.adopt(q);
      q.enforceLimits();
      q.recovered();
    }
    for (const [, def] of meta.list("binding")) {
      const b = def as Binding;
      v.exchanges.get(b.source)?.bind(b);
    }
    // last: a held message that fell due while the broker was down is released as soon as its exchange
    // starts, and must find its queues and bindings already there (it is settled once routed)
    for (const d of delayed) await v.attachDelay(d, true);
    return v;
  }

  exchange(name: string): Exchange {
    const e = this.exchanges.get(name);
    if (e === undefined) throw notFound("exchange", name);
    return e;
  }

  /** The queue, if this connection may use it (405 when another connection owns it). */
  queue(name: string, owner: string): Queue {
    const q = this.queues.get(name);
    if (q === undefined) throw notFound("queue", name);
    if (q.opts.exclusiveOwner !== null && q.opts.exclusiveOwner !== owner) {
      throw new BrokerError(
        "RESOURCE_LOCKED",
        `cannot obtain exclusive access to locked queue '${name}' in vhost '${VHOST}'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
      );
    }
    return q;
  }

  async declareExchange(def: ExchangeDef, passive: boolean): Promise<void> {
    const existing = this.exchanges.get(def.name);
    if (passive) {
      if (existing === undefined) throw notFound("exchange", def.name);
      return;
    }
    if (def.name.startsWith("amq.") && existing === undefined) {
      throw new BrokerError("ACCESS_REFUSED", `exchange name '${def.name}' contains reserved prefix 'amq.*'`);
    }
    if (!isExchangeType(def.type) && def.type !== DELAYED_TYPE) {
      throw new BrokerError("INVALID_REQUEST", `invalid exchange type '${def.type}'`);
    }
    const delayedType = def.args["x-delayed-type"];
    if (def.type === DELAYED_TYPE && (typeof delayedType !== "string" || !isExchangeType(delayedType))) {
      throw new BrokerError(
        "PRECONDITION_FAILED",
        "Invalid argument, 'x-delayed-type' must be an existing exchange type",
      );
    }
    if (existing !== undefined) {
      const diff = exchangeInequivalence(existing.def, def);
      if (diff !== null) throw new BrokerError("PRECONDITION_FAILED", diff);
      return;
    }
    if (def.durable) await this.meta.put("exchange", def.name, def);
    this.exchanges.set(def.name, new Exchange(def));
    if (def.type === DELAYED_TYPE) await this.attachDelay(def, false);
  }

  /** Opens (or recovers) the log that holds a delayed exchange's messages until due. */
  private async attachDelay(def: ExchangeDef, recovered: boolean): Promise<void> {
    const name = delayedQueueName(def.name);
    const { log, settle, closeAcks } = await this.store.openLogs(name, def.durable, recovered);
    const held = new DelayedMessages(
      name,
      log,
      settle,
      this.clock,
      (m) => {
        const headers = headersOnce(() => this.codec.headersOf(m.properties));
        for (const q of this.route(def.name, m.routingKey, headers, true)) q.enqueue(m);
      },
      (err) => this.store.logger.error({ err, exchange: def.name }, "delayed messages: release failed"),
    );
    held.onClose(closeAcks);
    this.delayed.set(def.name, held);
    await held.start();
  }

  private async detachDelay(exchange: string, durable: boolean): Promise<void> {
    const d = this.delayed.get(exchange);
    if (d === undefined) return;
    this.delayed.delete(exchange);
    await d.close();
    if (durable) await this.store.remove(d.name);
  }

  async deleteExchange(name: string, ifUnused: boolean): Promise<void> {
    if (name === "" || name.startsWith("amq.")) {
      throw new BrokerError("ACCESS_REFUSED", `operation not permitted on the default exchange`);
    }
    const e = this.exchanges.get(name);
    if (e === undefined) return; // RabbitMQ: deleting a missing exchange is ok
    if (ifUnused && e.bindingCount > 0) {
      throw new BrokerError("PRECONDITION_FAILED", `exchange '${name}' in vhost '${VHOST}' in use`);
    }
    const doomed = [...e.allBindings()];
    for (const other of this.exchanges.values()) doomed.push(...other.bindingsTo("exchange", name));
    await this.removeBindings(doomed);
    this.exchanges.delete(name);
    await this.detachDelay(name, e.def.durable);
    if (e.def.durable) await this.meta.delete("exchange", name);
  }

  async declareQueue(d: QueueDeclare, owner: string): Promise<Queue> {
    const name = d.name === "" ? `amq.gen-${randomBytes(16).toString("base64url").slice(0, 22)}` : d.name;
    const existing = this.queues.get(name);
    if (d.passive) return this.queue(name, owner);
    if (name.startsWith("amq.") && d.name !== "") {
      throw new BrokerError("ACCESS_REFUSED", `queue name '${name}' contains reserved prefix 'amq.*'`);
    }
    if (existing !== undefined) {
      this.queue(name, owner);
      checkQueueEquivalent(existing.opts, d, owner);
      this.touch(existing);
      return existing;
    }
    const opts: QueueOptions = {
      name,
      durable: d.durable,
      exclusiveOwner: d.exclusive ? owner : null,
      autoDelete: d.autoDelete,
      args: d.args,
    };
    parseQueuePolicy(name, d.args);
    const q = await this.store.open(opts, false);
    if (this.queues.has(name)) {
      await q.close();
      return this.declareQueue(d, owner);
    }
    if (d.durable && !d.exclusive) await this.meta.put("queue", name, opts);
    this.adopt(q);
    return q;
  }

  /** Registers a queue: dead-lettering goes through this vhost, x-expires is armed. */
  private adopt(q: Queue): void {
    this.queues.set(q.name, q);
    q.deadLetter = (qm, reason) => {
      if (q.policy.deadLetterExchange !== undefined) this.stats.deadLettered[reason]++;
      deadLetter(this, this.codec, q, qm, reason, this.clock.nowMs());
    };
    this.touch(q);
  }

  /** The queue was used (declared, consumed from, read): restarts its x-expires countdown. */
  touch(q: Queue): void {
    const ms = q.policy.expiresMs;
    if (ms === undefined) return;
    this.clock.clearTimer(this.expiryTimers.get(q));
    // through the clock: a bare setTimeout of 2^31 ms or more (x-expires of 25 days) fires after 1 ms
    const t = this.clock.setTimer(ms, () => {
      this.expiryTimers.delete(q);
      if (q.deleted) return;
      if (q.consumerCount > 0) this.touch(q);
      else
        this.dropQueue(q).catch((err: unknown) => {
          this.store.logger.error(
            { queue: q.name, err },
            `deleting expired queue ${q.name} (x-expires) failed`,
          );
        });
    });
    this.expiryTimers.set(q, t);
  }

  /** Deletes the queue; returns how many ready messages it held. */
  async deleteQueue(name: string, owner: string, ifUnused: boolean, ifEmpty: boolean): Promise<number> {
    if (!this.queues.has(name)) return 0;
    const q = this.queue(name, owner);
    if (ifUnused && q.consumerCount > 0) {
      throw new BrokerError("PRECONDITION_FAILED", `queue '${name}' in vhost '${VHOST}' in use`);
    }
    if (ifEmpty && q.messageCount > 0) {
      throw new BrokerError("PRECONDITION_FAILED", `queue '${name}' in vhost '${VHOST}' is not empty`);
    }
    return this.dropQueue(q);
  }

  private async dropQueue(q: Queue): Promise<number> {
    const count = q.messageCount;
    this.clock.clearTimer(this.expiryTimers.get(q));
    this.expiryTimers.delete(q);
    this.queues.delete(q.name);
    q.markDeleted();
    const doomed: Binding[] = [];
    for (const e of this.exchanges.values()) doomed.push(...e.bindingsTo("queue", q.name));
    await this.removeBindings(doomed);
    const durable = q.opts.durable;
    if (durable && q.opts.exclusiveOwner === null) await this.meta.delete("queue", q.name);
    await q.close();
    if (durable) await this.store.remove(q.name);
    return count;
  }

  /** A consumer went away: an auto-delete queue that had one and has none left is deleted. */
  async consumerGone(q: Queue, wasLast: boolean): Promise<void> {
    if (wasLast && q.opts.autoDelete && q.hadConsumer && !q.deleted) await this.dropQueue(q);
    else if (wasLast) this.touch(q);
  }

  /** The owning connection closed: its exclusive queues go with it. */
  async ownerGone(owner: string): Promise<void> {
    for (const q of [...this.queues.values()]) if (q.opts.exclusiveOwner === owner) await this.dropQueue(q);
  }

  async bind(b: Binding): Promise<void> {
    const source = this.exchange(b.source);
    if (b.source === "") {
      throw new BrokerError("ACCESS_REFUSED", `operation not permitted on the default exchange`);
    }
    const durable = source.def.durable && this.destinationDurable(b);
    if (!source.bind(b)) return;
    if (durable) await this.meta.put("binding", bindingId(b), b);
  }

  async unbind(b: Binding): Promise<void> {
    if (b.source === "")
      throw new BrokerError("ACCESS_REFUSED", `operation not permitted on the default exchange`);
    const source = this.exchange(b.source);
    await this.removeBindings(
      source.bindingsTo(b.destKind, b.destination).filter((x) => bindingId(x) === bindingId(b)),
    );
  }

  /** Throws NOT_FOUND unless the binding's destination exists. */
  checkDestination(b: Binding, owner: string): void {
    if (b.destKind === "queue") this.queue(b.destination, owner);
    else this.exchange(b.destination);
  }

  private destinationDurable(b: Binding): boolean {
    if (b.destKind === "exchange") return this.exchanges.get(b.destination)?.def.durable ?? false;
    const q = this.queues.get(b.destination);
    return q?.opts.durable === true && q.opts.exclusiveOwner === null;
  }

  private async removeBindings(bs: readonly Binding[]): Promise<void> {
    const durable: string[] = [];
    for (const b of bs) {
      const src = this.exchanges.get(b.source);
      if (src?.unbind(b) && b.source !== "") durable.push(bindingId(b));
    }
    const stored = durable.filter((id) => this.meta.get("binding", id) !== undefined);
    if (stored.length > 0)
      await this.meta.apply(stored.map((key) => ({ kind: "binding", key, value: null })));
    for (const b of bs) {
      const src = this.exchanges.get(b.source);
      if (src?.def.autoDelete && src.bindingCount === 0 && b.source !== "")
        await this.deleteExchange(src.name, false);
    }
  }

  /** The queues a message published to `exchange` reaches (exchange-to-exchange and alternate exchanges followed). */
  route(exchange: string, routingKey: string, headers: HeadersOf, released = false): EnqueueTarget[] {
    if (exchange === "") {
      const q = this.queues.get(routingKey);
      return q === undefined ? [] : [q];
    }
    const out = new Set<EnqueueTarget>();
    const seen = new Set<string>();
    const visit = (name: string): void => {
      if (seen.has(name)) return;
      seen.add(name);
      const e = this.exchanges.get(name);
      if (e === undefined) return;
      const held = this.delayed.get(name);
      if (held !== undefined && !(released && name === exchange) && delayOf(headers()) > 0) {
        out.add(held);
        return;
      }
      const matched = e.route(routingKey, headers);
      for (const b of matched) {
        if (b.destKind === "exchange") visit(b.destination);
        else {
          const q = this.queues.get(b.destination);
          if (q !== undefined) out.add(q);
        }
      }
      const ae = e.def.args["alternate-exchange"];
      if (matched.length === 0 && typeof ae === "string") visit(ae);
    };
    visit(exchange);
    return [...out];
  }

  async close(): Promise<void> {
    for (const t of this.expiryTimers.values()) this.clock.clearTimer(t);
    for (const d of this.delayed.values()) await d.close();
    for (const q of this.queues.values()) await q.close();
  }
}

export { canonical };
