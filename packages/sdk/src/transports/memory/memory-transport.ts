// A connection to the in-process memory broker: the memory:// transport for unit tests and examples.
// Invariant: while the broker is down nothing is delivered or published; once it is back every open
// subscription is consuming again and waiting publishes go through, as a network adapter reconnects.

import { sleep } from "../../lib/clock.ts";
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
import { MemoryConsumer } from "./group-queue.ts";
import { type MemoryBroker, memoryBroker } from "./memory-broker.ts";

/** How long after the broker is back a dropped connection reconnects (a network adapter's backoff). */
const RECONNECT_MS = 50;

class MemorySubscription implements TransportSubscription {
  consumer: MemoryConsumer | undefined;
  paused = false;
  closed = false;

  constructor(
    private readonly conn: MemoryTransport,
    readonly topic: string,
    readonly options: TransportSubscribeOptions,
    readonly onDelivery: (d: Delivery) => void,
  ) {}

  attach(): void {
    const q = this.conn.broker.group(this.topic, this.options.group, this.options.temporary === true);
    this.consumer = new MemoryConsumer(this.options.prefetch, this.onDelivery);
    this.consumer.paused = this.paused;
    q.add(this.consumer);
  }

  detach(): void {
    if (this.consumer === undefined) return;
    this.conn.broker.group(this.topic, this.options.group).remove(this.consumer);
    this.consumer = undefined;
  }

  pause(): void {
    this.paused = true;
    if (this.consumer) this.consumer.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.consumer) {
      this.consumer.paused = false;
      this.conn.broker.group(this.topic, this.options.group).schedule();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    if (this.options.temporary) this.conn.broker.deleteGroup(this.topic, this.options.group);
    this.conn.subscriptions.delete(this);
  }

  async lag(): Promise<number> {
    return this.conn.broker.group(this.topic, this.options.group).depth;
  }
}

export class MemoryTransport implements Transport {
  readonly system = "memory";
  readonly subscriptions = new Set<MemorySubscription>();
  private readonly statusListeners: ((s: TransportStatus, e?: Error) => void)[] = [];
  private connected = true;
  private closed = false;
  private waiters: (() => void)[] = [];
  private readonly offUpDown: () => void;
  /** Keeps the process alive while the connection is open, as a network transport's socket does. */
  private readonly keepAlive = setInterval(() => {}, 2 ** 30);

  constructor(
    readonly broker: MemoryBroker,
    private readonly context: TransportContext,
  ) {
    this.offUpDown = broker.onUpDown((up) => (up ? this.reconnectLater() : this.dropped()));
  }

  private dropped(): void {
    this.connected = false;
    for (const s of this.subscriptions) s.detach();
    this.emit("reconnecting", new Error(`memory broker ${this.broker.name} restarted`));
  }

  private async reconnectLater(): Promise<void> {
    await sleep(this.context.clock, RECONNECT_MS);
    if (this.closed || !this.broker.up) return;
    this.connected = true;
    for (const s of this.subscriptions) s.attach();
    this.emit("connected");
    for (const w of this.waiters.splice(0)) w();
  }

  private emit(status: TransportStatus, error?: Error): void {
    for (const l of this.statusListeners) l(status, error);
  }

  /** Waits out a broker restart, as a network adapter holds publishes while it reconnects. */
  private async ready(): Promise<void> {
    if (!this.connected && !this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.closed) throw new Error("transport closed");
  }

  async publish(topic: string, message: TransportMessage, target?: PublishTarget): Promise<void> {
    await this.ready();
    this.broker.publish(topic, message, target);
  }

  async subscribe(
    topic: string,
    options: TransportSubscribeOptions,
    onDelivery: (d: Delivery) => void,
  ): Promise<TransportSubscription> {
    checkSubscribeOptions(options);
    await this.ready();
    const s = new MemorySubscription(this, topic, options, onDelivery);
    this.subscriptions.add(s);
    s.attach();
    return s;
  }

  async send(queue: string, message: TransportMessage): Promise<void> {
    await this.ready();
    this.broker.send(queue, message);
  }

  async browse(queue: string, limit: number): Promise<TransportMessage[]> {
    await this.ready();
    return this.broker.browse(queue, limit);
  }

  async take(queue: string, limit: number): Promise<Taken[]> {
    await this.ready();
    return this.broker.take(queue, limit);
  }

  onStatus(listener: (status: TransportStatus, error?: Error) => void): void {
    this.statusListeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const s of [...this.subscriptions]) await s.close();
    this.closed = true;
    clearInterval(this.keepAlive);
    this.offUpDown();
    for (const w of this.waiters.splice(0)) w();
    this.emit("closed");
  }
}

/** memory://NAME: connections with the same NAME in one process share one broker ("default" if none). */
export async function createMemoryTransport(context: TransportContext): Promise<Transport> {
  const name = context.url.host || context.url.pathname.replace(/^\/+/u, "") || "default";
  return new MemoryTransport(memoryBroker(name, context.clock), context);
}
