// Dead-letter queues on Kafka: a topic per queue; take() leases records through a consumer group of its
// own (offsets committed over acked records only), browse() reads from that group's committed offsets
// with plain fetches (nothing is consumed). Invariant: an acked record never comes back to take(); a
// released one comes back first.

import type { Consumer, Message, MessagesStream } from "@platformatic/kafka";
import { sleep } from "../../lib/clock.ts";
import type { Taken, TransportMessage } from "../transport.ts";
import { fromRecord } from "./kafka-message.ts";
import type { KafkaSubscriptionDeps } from "./kafka-subscription.ts";
import { closeNow, takeGroup } from "./names.ts";
import { OffsetTracker } from "./offset-tracker.ts";

type Msg = Message<Buffer, Buffer, Buffer, Buffer>;
/** How long take() waits for records the broker has but the consumer has not fetched yet. */
const TAKE_WAIT_MS = 3_000;
const READ_AHEAD = 1_000;

export class KafkaQueue {
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private ready: Promise<void> | undefined;
  private readonly buffer: Msg[] = [];
  private readonly trackers = new Map<number, OffsetTracker>();

  constructor(
    private readonly deps: KafkaSubscriptionDeps,
    readonly queue: string,
  ) {}

  private start(): Promise<void> {
    this.ready ??= (async () => {
      await this.deps.ensureTopics([this.queue]);
      const c = new this.deps.lib.Consumer({
        groupId: takeGroup(this.queue),
        clientId: `spindle-sdk-${process.pid}`,
        bootstrapBrokers: this.deps.brokers,
        maxWaitTime: 200,
      });
      c.on("error", () => {});
      const s = await c.consume({
        topics: [this.queue],
        mode: "committed",
        fallbackMode: "earliest",
        autocommit: false,
      });
      s.on("data", (m: Msg) => {
        this.tracker(m.partition).seen(m.offset);
        this.buffer.push(m);
        if (this.buffer.length >= READ_AHEAD) s.pause();
      });
      s.on("error", () => {});
      this.consumer = c;
      this.stream = s;
    })();
    return this.ready;
  }

  private tracker(partition: number): OffsetTracker {
    let t = this.trackers.get(partition);
    if (t === undefined) {
      t = new OffsetTracker();
      this.trackers.set(partition, t);
    }
    return t;
  }

  /** Records the broker holds past what this reader has seen (a take waits for them). */
  private async unseen(): Promise<boolean> {
    const ends = await this.consumer?.listOffsets({ topics: [this.queue] });
    for (const [p, end] of (ends?.get(this.queue) ?? []).entries()) {
      const t = this.trackers.get(p);
      const seenTo = t === undefined ? -1n : (t.commitPoint() ?? t.committed);
      if (end > seenTo && (t === undefined || end > this.highest(p))) return true;
    }
    return false;
  }

  private highest(partition: number): bigint {
    let h = -1n;
    for (const m of this.buffer) if (m.partition === partition && m.offset >= h) h = m.offset + 1n;
    const t = this.trackers.get(partition);
    return h > -1n ? h : (t?.commitPoint() ?? t?.committed ?? -1n);
  }

  async take(limit: number): Promise<Taken[]> {
    await this.start();
    const deadline = Date.now() + TAKE_WAIT_MS;
    while (this.buffer.length < limit && Date.now() < deadline && (await this.unseen())) {
      await sleep(this.deps.clock, 20);
    }
    const got = this.buffer.splice(0, limit);
    if (this.buffer.length < READ_AHEAD) this.stream?.resume();
    return got.map((m) => this.lease(m));
  }

  private lease(m: Msg): Taken {
    let done = false;
    return {
      message: fromRecord(m.key, m.value, m.headers, `${m.topic}-${m.partition}-${m.offset}`),
      ack: async () => {
        if (done) return;
        done = true;
        const t = this.tracker(m.partition);
        t.done(m.offset);
        const point = t.commitPoint();
        if (point === undefined || this.consumer === undefined) return;
        t.committed = point;
        await this.consumer.commit({
          offsets: [{ topic: this.queue, partition: m.partition, offset: point, leaderEpoch: 0 }],
        });
      },
      release: async () => {
        if (done) return;
        done = true;
        this.buffer.unshift(m);
      },
    };
  }

  /** Up to `limit` records from the take group's committed offsets on, read with fetches. */
  async browse(limit: number): Promise<TransportMessage[]> {
    await this.start();
    const c = this.consumer as Consumer<Buffer, Buffer, Buffer, Buffer>;
    const meta = await c.metadata({ topics: [this.queue] });
    const topic = meta.topics.get(this.queue);
    if (topic === undefined) return [];
    const committed = await c.listCommittedOffsets({
      topics: [{ topic: this.queue, partitions: topic.partitions.map((_, i) => i) }],
    });
    const out: TransportMessage[] = [];
    for (const [p, part] of topic.partitions.entries()) {
      let offset = committed.get(this.queue)?.[p] ?? -1n;
      if (offset < 0n) offset = 0n;
      while (out.length < limit) {
        const next = await this.fetchInto(c, part.leader, topic.id, p, offset, limit, out);
        if (next === offset) break; // the end of the partition
        offset = next;
      }
    }
    return out;
  }

  private async fetchInto(
    c: Consumer<Buffer, Buffer, Buffer, Buffer>,
    node: number,
    topicId: string,
    partition: number,
    from: bigint,
    limit: number,
    out: TransportMessage[],
  ): Promise<bigint> {
    const res = await c.fetch({
      node,
      topics: [
        {
          topicId,
          partitions: [
            {
              partition,
              fetchOffset: from,
              partitionMaxBytes: 1 << 20,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            },
          ],
        },
      ],
    } as never);
    let next = from;
    const batches = (res as unknown as { responses: { partitions: { records?: BatchLike[] }[] }[] })
      .responses[0]?.partitions[0]?.records;
    for (const b of batches ?? []) {
      for (const r of b.records) {
        const offset = b.firstOffset + BigInt(r.offsetDelta);
        next = offset + 1n;
        // acked here already, though not yet under the commit point (an earlier record is still out)
        if (offset < from || out.length >= limit || this.trackers.get(partition)?.isDone(offset)) continue;
        const headers = new Map<Buffer, Buffer>();
        for (const [k, v] of r.headers) if (k !== null && v !== null) headers.set(k, v);
        out.push(fromRecord(r.key, r.value, headers, `${this.queue}-${partition}-${offset}`));
      }
    }
    return next;
  }

  async close(): Promise<void> {
    await this.stream?.close().catch(() => {});
    await closeNow(this.consumer);
  }
}

interface BatchLike {
  firstOffset: bigint;
  records: {
    offsetDelta: number;
    key: Buffer | null;
    value: Buffer | null;
    headers: [Buffer | null, Buffer | null][];
  }[];
}
