// The in-process broker behind memory:// URLs: topics with durable groups, delayed per-group copies and
// point-to-point queues, shared by every connection to the same name in this process. Invariant: a message
// published to a topic is enqueued once for each of the topic's groups that exist at that moment.

import type { Clock } from "../../lib/clock.ts";
import type { PublishTarget, Taken, TransportMessage } from "../transport.ts";
import { GroupQueue } from "./group-queue.ts";

export class MemoryBroker {
  private readonly topics = new Map<string, Map<string, GroupQueue>>();
  private readonly queues = new Map<string, TransportMessage[]>();
  /** Connections drop and reconnect when the broker restarts. */
  private readonly listeners = new Set<(up: boolean) => void>();
  up = true;

  constructor(
    readonly name: string,
    readonly clock: Clock,
  ) {}

  group(topic: string, group: string, temporary = false): GroupQueue {
    let groups = this.topics.get(topic);
    if (groups === undefined) {
      groups = new Map();
      this.topics.set(topic, groups);
    }
    let q = groups.get(group);
    if (q === undefined) {
      q = new GroupQueue(temporary);
      groups.set(group, q);
    }
    return q;
  }

  deleteGroup(topic: string, group: string): void {
    this.topics.get(topic)?.delete(group);
  }

  publish(topic: string, message: TransportMessage, target: PublishTarget = {}): void {
    const deliver = (): void => {
      if (target.group !== undefined) this.group(topic, target.group).enqueue(message);
      else for (const q of this.topics.get(topic)?.values() ?? []) q.enqueue(message);
    };
    if (target.delayMs !== undefined && target.delayMs > 0) this.clock.setTimer(target.delayMs, deliver);
    else deliver();
  }

  send(queue: string, message: TransportMessage): void {
    this.queue(queue).push(message);
  }

  browse(queue: string, limit: number): TransportMessage[] {
    return this.queue(queue).slice(0, limit);
  }

  /** Takes from the head; a released message goes back to the head (ahead of later ones). */
  take(queue: string, limit: number): Taken[] {
    const q = this.queue(queue);
    return q.splice(0, limit).map((message) => {
      let settled = false;
      const settle = (back: boolean): Promise<void> => {
        if (settled) return Promise.reject(new Error("already settled"));
        settled = true;
        if (back) q.unshift(message);
        return Promise.resolve();
      };
      return { message, ack: () => settle(false), release: () => settle(true) };
    });
  }

  private queue(name: string): TransportMessage[] {
    let q = this.queues.get(name);
    if (q === undefined) {
      q = [];
      this.queues.set(name, q);
    }
    return q;
  }

  onUpDown(listener: (up: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A broker restart: every connection drops (their unsettled deliveries go back to their queues) and
   * temporary groups vanish; durable groups, queues and pending delayed copies survive. Connections
   * reconnect with backoff once the broker is up again, `downMs` later.
   */
  restart(downMs: number): Promise<void> {
    this.up = false;
    for (const l of [...this.listeners]) l(false);
    for (const groups of this.topics.values()) {
      for (const [name, q] of groups) if (q.temporary) groups.delete(name);
    }
    return new Promise((resolve) => {
      this.clock.setTimer(downMs, () => {
        this.up = true;
        for (const l of [...this.listeners]) l(true);
        resolve();
      });
    });
  }
}

const brokers = new Map<string, MemoryBroker>();

/** The broker of memory://NAME in this process (made on first use). */
export function memoryBroker(name: string, clock: Clock): MemoryBroker {
  let b = brokers.get(name);
  if (b === undefined) {
    b = new MemoryBroker(name, clock);
    brokers.set(name, b);
  }
  return b;
}

/** Forgets a named broker and everything in it (tests that want a fresh one under the same name). */
export function dropMemoryBroker(name: string): void {
  brokers.delete(name);
}
