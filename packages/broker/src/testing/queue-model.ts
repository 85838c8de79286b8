// The reference model of one durable queue for the model-based test: plain arrays, no log, no I/O.
// Invariant: it states RabbitMQ's rules directly (priority lanes, requeued messages at the front of their
// lane, drop-head, reject-publish, TTL at the head, delivery limit, what a restart keeps).

export type ModelOverflow = "drop-head" | "reject-publish" | "reject-publish-dlx";
export type ModelDeathReason = "rejected" | "expired" | "maxlen" | "delivery_limit";

export interface ModelConfig {
  readonly maxPriority?: number;
  readonly maxLength?: number;
  readonly maxLengthBytes?: number;
  readonly overflow: ModelOverflow;
  readonly messageTtlMs?: number;
  readonly deliveryLimit?: number;
}

export interface ModelPublish {
  readonly id: number;
  readonly bytes: number;
  readonly persistent: boolean;
  readonly priority: number;
  readonly expirationMs: number | undefined;
}

export interface ModelMessage {
  readonly id: number;
  readonly offset: number;
  readonly bytes: number;
  readonly persistent: boolean;
  /** its priority lane: the priority clamped to x-max-priority (one lane 0 without it) */
  readonly lane: number;
  /** enqueue time + min(x-message-ttl, expiration); Infinity without either */
  readonly deadline: number;
  redelivered: boolean;
  requeues: number;
}

/** What a delivery carried when it was made (the message's flags change later). */
export interface ModelDelivery {
  readonly id: number;
  readonly redelivered: boolean;
}

export interface ModelDeath {
  readonly id: number;
  readonly reason: ModelDeathReason;
}

interface Lane {
  /** delivered and put back, by offset: delivered before the lane's other messages */
  requeued: ModelMessage[];
  /** never delivered since the last restart, by offset */
  pending: ModelMessage[];
}

export class QueueModel {
  nowMs: number;
  private nextOffset = 0;
  /** every offset below it may have been handed out to be acked (what `redelivered` means after a restart) */
  private deliveredEnd = 0;
  private lanes: Lane[];
  /** delivered and not settled, by id */
  readonly unacked = new Map<number, ModelMessage>();
  consumer: { prefetch: number; held: Set<number> } | null = null;
  /** what the last command delivered to the consumer and dead-lettered (or dropped) */
  deliveries: ModelDelivery[] = [];
  deaths: ModelDeath[] = [];

  constructor(
    readonly config: ModelConfig,
    nowMs: number,
  ) {
    this.nowMs = nowMs;
    this.lanes = this.emptyLanes();
  }

  private emptyLanes(): Lane[] {
    return Array.from({ length: (this.config.maxPriority ?? 0) + 1 }, () => ({ requeued: [], pending: [] }));
  }

  /** Starts a command: forgets what the previous one delivered and dropped. */
  begin(): void {
    this.deliveries = [];
    this.deaths = [];
  }

  get count(): number {
    let n = 0;
    for (const l of this.lanes) n += l.requeued.length + l.pending.length;
    return n;
  }

  private get readyBytes(): number {
    let n = 0;
    for (const m of this.ready()) n += m.bytes;
    return n;
  }

  /** Every ready message, in delivery order. */
  ready(): ModelMessage[] {
    const out: ModelMessage[] = [];
    for (let p = this.lanes.length - 1; p >= 0; p--) {
      const l = this.lanes[p] as Lane;
      out.push(...l.requeued, ...l.pending);
    }
    return out;
  }

  /** The head that TTL expiry looks at: the oldest message at the front of a lane. */
  oldestHead(): ModelMessage | undefined {
    let oldest: ModelMessage | undefined;
    for (const l of this.lanes) {
      const h = l.requeued[0] ?? l.pending[0];
      if (h !== undefined && (oldest === undefined || h.offset < oldest.offset)) oldest = h;
    }
    return oldest;
  }

  expired(m: ModelMessage): boolean {
    return m.deadline <= this.nowMs;
  }

  /** Returns false when x-overflow refused it. */
  publish(p: ModelPublish): boolean {
    const { overflow, maxLength, maxLengthBytes } = this.config;
    if (overflow !== "drop-head") {
      const full =
        (maxLength !== undefined && this.count + 1 > maxLength) ||
        (maxLengthBytes !== undefined && this.readyBytes + p.bytes > maxLengthBytes);
      if (full) {
        if (overflow === "reject-publish-dlx") this.deaths.push({ id: p.id, reason: "maxlen" });
        return false;
      }
    }
    const ttl = Math.min(this.config.messageTtlMs ?? Infinity, p.expirationMs ?? Infinity);
    const lane = this.config.maxPriority === undefined ? 0 : Math.min(p.priority, this.config.maxPriority);
    (this.lanes[lane] as Lane).pending.push({
      id: p.id,
      offset: this.nextOffset++,
      bytes: p.bytes,
      persistent: p.persistent,
      lane,
      deadline: this.nowMs + ttl,
      redelivered: false,
      requeues: 0,
    });
    this.drain();
    if (overflow === "drop-head") this.dropHeadWhileOver();
    return true;
  }

  private dropHeadWhileOver(): void {
    const { maxLength, maxLengthBytes } = this.config;
    while (
      (maxLength !== undefined && this.count > maxLength) ||
      (maxLengthBytes !== undefined && this.readyBytes > maxLengthBytes)
    ) {
      const m = this.shift();
      if (m === undefined) return;
      this.deaths.push({ id: m.id, reason: "maxlen" });
    }
  }

  private shift(): ModelMessage | undefined {
    for (let p = this.lanes.length - 1; p >= 0; p--) {
      const l = this.lanes[p] as Lane;
      const m = l.requeued.shift() ?? l.pending.shift();
      if (m !== undefined) return m;
    }
    return undefined;
  }

  /** The next message to deliver; expired ones met on the way are dead-lettered. */
  private take(): ModelMessage | undefined {
    for (;;) {
      const m = this.shift();
      if (m === undefined || !this.expired(m)) return m;
      this.deaths.push({ id: m.id, reason: "expired" });
    }
  }

  private handOut(m: ModelMessage): void {
    this.unacked.set(m.id, m);
    this.deliveredEnd = Math.max(this.deliveredEnd, m.offset + 1);
  }

  /** Delivers to the consumer while it has credit. */
  private drain(): void {
    const c = this.consumer;
    while (c !== null && c.held.size < c.prefetch) {
      const m = this.take();
      if (m === undefined) return;
      this.handOut(m);
      c.held.add(m.id);
      this.deliveries.push({ id: m.id, redelivered: m.redelivered });
    }
  }

  get(noAck: boolean): ModelDelivery | null {
    const m = this.take();
    if (m === undefined) return null;
    if (!noAck) this.handOut(m);
    return { id: m.id, redelivered: m.redelivered };
  }

  consume(prefetch: number): void {
    this.consumer = { prefetch, held: new Set() };
    this.drain();
  }

  cancel(): void {
    this.consumer = null;
  }

  private settle(id: number): ModelMessage {
    const m = this.unacked.get(id);
    if (m === undefined) throw new Error(`model: message ${id} is not unacked`);
    this.unacked.delete(id);
    this.consumer?.held.delete(id);
    return m;
  }

  ack(id: number): void {
    this.settle(id);
    this.drain();
  }

  /** reject or nack without requeue */
  reject(id: number): void {
    this.deaths.push({ id: this.settle(id).id, reason: "rejected" });
    this.drain();
  }

  /** reject or nack with requeue: back to the front of its own lane, by offset among the requeued; past
   *  x-max-length, drop-head drops the head (RabbitMQ's requeue_and_run) */
  requeue(id: number): void {
    const m = this.settle(id);
    m.redelivered = true;
    m.requeues++;
    const limit = this.config.deliveryLimit;
    if (limit !== undefined && m.requeues > limit) {
      this.deaths.push({ id: m.id, reason: "delivery_limit" });
    } else {
      const r = (this.lanes[m.lane] as Lane).requeued;
      let i = r.length;
      while (i > 0 && (r[i - 1] as ModelMessage).offset > m.offset) i--;
      r.splice(i, 0, m);
      if (this.config.overflow === "drop-head") this.dropHeadWhileOver();
    }
    this.drain();
  }

  purge(): number {
    const n = this.count;
    this.lanes = this.emptyLanes();
    return n;
  }

  /** A peek: every unsettled message by offset, ready ones with the flag their delivery would carry (an
   *  unacked one would come back redelivered). */
  peek(): { id: number; ready: boolean; redelivered: boolean }[] {
    const ready = this.ready().map((m) => ({
      id: m.id,
      offset: m.offset,
      ready: true,
      redelivered: m.redelivered,
    }));
    const unacked = [...this.unacked.values()].map((m) => ({
      id: m.id,
      offset: m.offset,
      ready: false,
      redelivered: true,
    }));
    return [...ready, ...unacked]
      .sort((a, b) => a.offset - b.offset)
      .map(({ id, ready, redelivered }) => ({ id, ready, redelivered }));
  }

  /** A move: at most `count` ready messages that `match` accepts and that are not past their TTL leave, the
   *  oldest (lowest offset) first; returns their ids in that order. */
  move(count: number, match: (id: number) => boolean): number[] {
    const moved = this.ready()
      .filter((m) => match(m.id) && !this.expired(m))
      .sort((a, b) => a.offset - b.offset)
      .slice(0, count);
    const gone = new Set(moved);
    for (const l of this.lanes) {
      l.requeued = l.requeued.filter((m) => !gone.has(m));
      l.pending = l.pending.filter((m) => !gone.has(m));
    }
    return moved.map((m) => m.id);
  }

  /** The real queue dropped this ready message as expired at `atMs` (TTL at the head, on its own schedule). */
  expire(id: number, atMs: number): void {
    for (const l of this.lanes) {
      for (const list of [l.requeued, l.pending]) {
        const i = list.findIndex((m) => m.id === id);
        if (i < 0) continue;
        const m = list[i] as ModelMessage;
        if (m.deadline > atMs)
          throw new Error(`message ${id} expired at ${atMs}, before its deadline ${m.deadline}`);
        list.splice(i, 1);
        return;
      }
    }
    throw new Error(`message ${id} was dropped as expired but is not ready`);
  }

  /** A clean restart: the consumer is gone, unacked messages are ready again, transient messages are lost,
   *  messages below the delivered mark come back `redelivered` ("may have been delivered"), and drop-head
   *  applies the limits to what came back (RabbitMQ's init_max_length at start). */
  restart(): void {
    this.consumer = null;
    const keep = [...this.ready(), ...this.unacked.values()].filter((m) => m.persistent);
    this.unacked.clear();
    keep.sort((a, b) => a.offset - b.offset);
    this.lanes = this.emptyLanes();
    for (const m of keep) {
      // requeue counts are kept only where x-delivery-limit needs them
      if (this.config.deliveryLimit === undefined) m.requeues = 0;
      m.redelivered = m.offset < this.deliveredEnd || m.requeues > 0;
      (this.lanes[m.lane] as Lane).pending.push(m);
    }
    if (this.config.overflow === "drop-head") this.dropHeadWhileOver();
  }

  /** Messages a restart now would drop: transient ones, ready or unacked. */
  get transientCount(): number {
    return [...this.ready(), ...this.unacked.values()].filter((m) => !m.persistent).length;
  }
}
