// A subscription as a Kafka consumer group member: the topic and the group's retry topics in one group,
// at most `prefetch` records held (the stream is paused past it), records of one key handed out one at
// a time (per-key order), retry-topic records held until due, offsets committed over settled records
// only, and a new consumer after the connection fails. Invariant: no offset is committed before its
// record's handler settled it; a release hands the record out again without committing it.

import { randomUUID } from "node:crypto";
import type { Consumer, Message, MessagesStream } from "@platformatic/kafka";
import type { Clock, TimerHandle } from "../../lib/clock.ts";
import { backoffMs } from "../backoff.ts";
import { DUE_HEADER } from "../delay-tiers.ts";
import type { Delivery, TransportSubscribeOptions, TransportSubscription } from "../transport.ts";
import { anchorGroupStart } from "./group-start.ts";
import { fromRecord, headerValue } from "./kafka-message.ts";
import type { KafkaStatus } from "./kafka-status.ts";
import { closeNow, groupId, retryTopics } from "./names.ts";
import { OffsetTracker } from "./offset-tracker.ts";

type Msg = Message<Buffer, Buffer, Buffer, Buffer>;
type KafkaLib = typeof import("@platformatic/kafka");

const COMMIT_EVERY_MS = 100;
const RELEASE_AGAIN_MS = 50;

export interface KafkaSubscriptionDeps {
  readonly lib: KafkaLib;
  readonly brokers: string[];
  readonly clock: Clock;
  /** Makes the topics exist (new ones with `partitions`, default 1) before the group consumes them. */
  ensureTopics(topics: string[], partitions?: number): Promise<void>;
  /** Partitions of a topic made for a subscription or a publish. */
  readonly partitions: number;
  /** The transport's connection state: a consumer failing or joining again moves it. */
  readonly status: KafkaStatus;
}

export class KafkaSubscription implements TransportSubscription {
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  /** bumped per consumer: settles of an older consumer's records are ignored */
  private epoch = 0;
  private trackers = new Map<string, OffsetTracker>();
  private held = 0;
  private paused = false;
  private closed = false;
  private failures = 0;
  private readonly keyQueues = new Map<string, Msg[]>();
  private readonly tierQueues = new Map<string, Msg[]>();
  private commitTimer: TimerHandle | undefined;
  private readonly group: string;
  private readonly topics: string[];
  onClosed: () => void = () => {};

  constructor(
    private readonly deps: KafkaSubscriptionDeps,
    readonly topic: string,
    readonly options: TransportSubscribeOptions,
    private readonly onDelivery: (d: Delivery) => void,
  ) {
    this.group = options.temporary ? `${topic}.tmp-${randomUUID()}` : groupId(topic, options.group);
    this.topics = options.temporary ? [topic] : [topic, ...retryTopics(topic, options.group)];
  }

  async start(): Promise<void> {
    await this.deps.ensureTopics([this.topic], this.deps.partitions);
    await this.deps.ensureTopics(this.topics);
    const { Consumer } = this.deps.lib;
    const consumer = new Consumer({
      groupId: this.group,
      clientId: `spindle-sdk-${process.pid}`,
      bootstrapBrokers: this.deps.brokers,
      maxWaitTime: 500,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
    consumer.on("error", (e: Error) => consumer === this.consumer && this.restart(e));
    let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
    try {
      // a new group starts at the end (it exists from now on), committed before the join so every later
      // join resumes from committed offsets; "latest" is only a fallback if that commit was refused
      await anchorGroupStart(this.deps.lib, this.deps.brokers, consumer, this.group, this.topics);
      stream = await consumer.consume({
        topics: this.topics,
        mode: "committed",
        fallbackMode: "latest",
        autocommit: false,
      });
    } catch (e) {
      await closeNow(consumer); // a half-joined member would linger in the group until its session ends
      throw e;
    }
    this.consumer = consumer;
    this.stream = stream;
    const epoch = ++this.epoch;
    stream.on("data", (m: Msg) => epoch === this.epoch && this.received(m));
    stream.on("error", (e: Error) => epoch === this.epoch && this.restart(e));
    this.flow();
    this.deps.status.up();
  }

  /** The consumer failed (broker gone): drop it and join again with backoff; unsettled records come again. */
  private restart(error?: unknown): void {
    if (this.closed) return;
    const why = error instanceof Error ? error.message : "the consumer failed";
    this.deps.status.down(new Error(`kafka: group ${this.group}: ${why}`));
    this.epoch++;
    const old = this.consumer;
    this.consumer = undefined;
    this.stream = undefined;
    void closeNow(old);
    this.trackers = new Map();
    this.keyQueues.clear();
    this.tierQueues.clear();
    this.held = 0;
    this.deps.clock.setTimer(backoffMs(this.failures++), () => {
      if (this.closed) return;
      this.start().then(
        () => {
          this.failures = 0;
        },
        (e: unknown) => this.restart(e),
      );
    });
  }

  private tracker(m: Msg): OffsetTracker {
    const k = `${m.topic}\0${m.partition}`;
    let t = this.trackers.get(k);
    if (t === undefined) {
      t = new OffsetTracker();
      this.trackers.set(k, t);
    }
    return t;
  }

  private received(m: Msg): void {
    this.tracker(m).seen(m.offset);
    if (m.topic !== this.topic) {
      this.waitDue(m);
      return;
    }
    const key = m.key === null || m.key === undefined || m.key.length === 0 ? undefined : m.key.toString();
    this.held++;
    if (key !== undefined) {
      const q = this.keyQueues.get(key);
      if (q !== undefined) {
        q.push(m); // one record of a key at a time: the partition's order per key holds
        this.flow();
        return;
      }
      this.keyQueues.set(key, []);
    }
    this.dispatch(m, key, this.epoch);
    this.flow();
  }

  /** A retry-topic record: its tier is FIFO, so the head waits until due and the rest wait behind it. */
  private waitDue(m: Msg): void {
    const k = `${m.topic}\0${m.partition}`;
    const q = this.tierQueues.get(k);
    if (q !== undefined) {
      q.push(m);
      return;
    }
    this.tierQueues.set(k, [m]);
    this.pumpTier(k, this.epoch);
  }

  private pumpTier(k: string, epoch: number): void {
    const q = this.tierQueues.get(k);
    if (epoch !== this.epoch || q === undefined) return;
    while (q.length > 0) {
      const m = q[0] as Msg;
      const left = Number(headerValue(m.headers, DUE_HEADER) ?? 0) - Date.now();
      if (left > 0) {
        this.deps.clock.setTimer(left, () => this.pumpTier(k, epoch));
        return;
      }
      q.shift();
      this.held++;
      this.dispatch(m, undefined, epoch);
    }
    this.tierQueues.delete(k);
  }

  /** No `redeliveries`: Kafka counts none (a record read again after a rebalance looks like a first read). */
  private dispatch(m: Msg, key: string | undefined, epoch: number): void {
    let settled = false;
    const settle = (release: boolean): Promise<void> => {
      if (settled || epoch !== this.epoch) return Promise.resolve();
      settled = true;
      if (release) {
        this.deps.clock.setTimer(RELEASE_AGAIN_MS, () => {
          if (epoch === this.epoch && !this.closed) this.dispatch(m, key, epoch);
        });
        return Promise.resolve();
      }
      this.tracker(m).done(m.offset);
      this.held--;
      this.scheduleCommit();
      if (key !== undefined) this.nextOfKey(key, epoch);
      this.flow();
      return Promise.resolve();
    };
    this.onDelivery({
      message: fromRecord(m.key, m.value, m.headers, `${m.topic}-${m.partition}-${m.offset}`, DUE_HEADER),
      ack: () => settle(false),
      release: () => settle(true),
    });
  }

  private nextOfKey(key: string, epoch: number): void {
    const q = this.keyQueues.get(key);
    const next = q?.shift();
    if (next === undefined) this.keyQueues.delete(key);
    else this.dispatch(next, key, epoch);
  }

  private flow(): void {
    const s = this.stream;
    if (s === undefined) return;
    if (this.paused || this.held >= this.options.prefetch) s.pause();
    else s.resume();
  }

  private scheduleCommit(): void {
    if (this.commitTimer !== undefined) return;
    this.commitTimer = this.deps.clock.setTimer(COMMIT_EVERY_MS, () => {
      this.commitTimer = undefined;
      void this.commit();
    });
  }

  private async commit(): Promise<void> {
    const consumer = this.consumer;
    if (consumer === undefined) return;
    const offsets = [];
    for (const [k, t] of this.trackers) {
      const point = t.commitPoint();
      if (point === undefined) continue;
      const [topic, partition] = k.split("\0") as [string, string];
      offsets.push({ topic, partition: Number(partition), offset: point, leaderEpoch: 0 });
      t.committed = point;
    }
    if (offsets.length === 0) return;
    // a refused commit (rebalance) only means these records may come again: at-least-once
    await consumer.commit({ offsets }).catch(() => {});
  }

  pause(): void {
    this.paused = true;
    this.flow();
  }

  resume(): void {
    this.paused = false;
    this.flow();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClosed();
    this.deps.clock.clearTimer(this.commitTimer);
    this.commitTimer = undefined;
    await this.commit();
    this.epoch++;
    await this.stream?.close().catch(() => {});
    await closeNow(this.consumer);
  }

  /** The group's lag on the topic (ListOffsets + OffsetFetch; the bus asks at most once a second). */
  async lag(): Promise<number | undefined> {
    const lag = await this.consumer?.getLag({ topics: [this.topic] });
    let sum = 0n;
    for (const ps of lag?.values() ?? []) for (const p of ps) if (p > 0n) sum += p;
    return Number(sum);
  }
}
