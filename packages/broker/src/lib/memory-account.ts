// The bytes the broker itself holds in memory, by kind: what the memory alarm follows, since RSS does not
// fall after a burst. Invariant: every add(kind, n) is undone by add(kind, -n) when the bytes are released,
// so an idle broker's total returns to 0; watchers hear each rise above their level once.

export const MEMORY_KINDS = [
  /** messages queues read ahead of their logs (the broker-wide read-ahead budget) */
  "queueWindows",
  /** messages requeued (nack, channel closed) and waiting in memory for their next delivery */
  "queueRequeued",
  /** AMQP content bodies received for publishes not yet complete */
  "amqpBodies",
  /** AMQP deliveries not yet acknowledged (their messages stay in memory until settled) */
  "amqpUnacked",
  /** AMQP bodies published and not yet stored by their queues */
  "amqpUnstored",
  /** AMQP output encoded or handed to sockets and not yet written to the kernel */
  "amqpOutboxes",
  /** Kafka request frames being received or handled */
  "kafkaRequests",
  /** Kafka responses handed to sockets and not yet written to the kernel */
  "kafkaResponses",
] as const;

export type MemoryKind = (typeof MEMORY_KINDS)[number];

interface Watcher {
  readonly levelBytes: number;
  readonly listener: () => void;
  above: boolean;
}

export class MemoryAccount {
  private readonly bytes = new Map<MemoryKind, number>(MEMORY_KINDS.map((k) => [k, 0]));
  private readonly watchers: Watcher[] = [];
  /** the sum over every kind */
  totalBytes = 0;

  add(kind: MemoryKind, n: number): void {
    this.bytes.set(kind, (this.bytes.get(kind) ?? 0) + n);
    this.totalBytes += n;
    for (const w of this.watchers) {
      if (this.totalBytes <= w.levelBytes) w.above = false;
      else if (!w.above) {
        w.above = true;
        // not from inside the caller: a watcher may block connections, which must not happen mid-frame
        queueMicrotask(w.listener);
      }
    }
  }

  /** Calls `listener` (in a microtask) each time the total rises above `levelBytes`. */
  watch(levelBytes: number, listener: () => void): void {
    this.watchers.push({ levelBytes, listener, above: this.totalBytes > levelBytes });
  }

  /** Bytes by kind, for log lines and metrics. */
  byKind(): Record<MemoryKind, number> {
    return Object.fromEntries(this.bytes) as Record<MemoryKind, number>;
  }
}
