// One group's queue in the memory broker: ready messages, competing consumers served round robin, each
// holding at most `prefetch` unsettled deliveries. Invariant: a message is ready, or held by exactly one
// consumer, until acked; a released or orphaned one goes back to the head of the queue.

import type { Delivery, TransportMessage } from "../transport.ts";

interface Entry {
  readonly message: TransportMessage;
  redeliveries: number;
}

export class MemoryConsumer {
  readonly held = new Set<Entry>();
  paused = false;
  closed = false;

  constructor(
    readonly prefetch: number,
    readonly onDelivery: (d: Delivery) => void,
  ) {}

  get ready(): boolean {
    return !this.closed && !this.paused && this.held.size < this.prefetch;
  }
}

export class GroupQueue {
  private readonly ready: Entry[] = [];
  private readonly consumers: MemoryConsumer[] = [];
  private next = 0;
  private scheduled = false;

  constructor(readonly temporary: boolean) {}

  get depth(): number {
    return this.ready.length;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  enqueue(message: TransportMessage): void {
    this.ready.push({ message, redeliveries: 0 });
    this.schedule();
  }

  add(consumer: MemoryConsumer): void {
    this.consumers.push(consumer);
    this.schedule();
  }

  /** Takes the consumer out; what it held goes back to the head, in the order it was delivered. */
  remove(consumer: MemoryConsumer): void {
    consumer.closed = true;
    const at = this.consumers.indexOf(consumer);
    if (at >= 0) this.consumers.splice(at, 1);
    const held = [...consumer.held];
    consumer.held.clear();
    for (const e of held.reverse()) this.requeue(e);
  }

  /** Runs dispatch in a microtask: deliveries never reenter the caller (a publish, an ack). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.ready.length > 0) {
      const c = this.pick();
      if (c === undefined) return;
      const e = this.ready.shift() as Entry;
      c.held.add(e);
      c.onDelivery(this.delivery(c, e));
    }
  }

  /** The next consumer with room, round robin from after the last one served. */
  private pick(): MemoryConsumer | undefined {
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) {
      const c = this.consumers[(this.next + i) % n] as MemoryConsumer;
      if (c.ready) {
        this.next = (this.next + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  /** Back to the head; `counted` unless the SDK released it itself (redeliveries count unsettled ends). */
  private requeue(e: Entry, counted = true): void {
    if (counted) e.redeliveries++;
    this.ready.unshift(e);
    this.schedule();
  }

  private delivery(c: MemoryConsumer, e: Entry): Delivery {
    const settle = (requeue: boolean): Promise<void> => {
      // a delivery whose consumer was closed or whose connection dropped was already given back
      if (!c.held.delete(e))
        return Promise.reject(new Error("delivery no longer held: the broker redelivers it"));
      if (requeue) this.requeue(e, false);
      else this.schedule();
      return Promise.resolve();
    };
    return {
      message: e.message,
      redeliveries: e.redeliveries,
      ack: () => settle(false),
      release: () => settle(true),
    };
  }
}
