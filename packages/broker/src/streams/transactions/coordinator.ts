// The transaction coordinator (KIP-98): producer ids and epochs per transactional id, the partitions and
// groups of each open transaction, commit/abort markers, timeouts, and recovery after a restart.
// Invariants: every state change is durable before it is answered; operations on one transactional id run
// one at a time; a transaction is Complete only after its marker is in every partition and its offsets are
// committed; an older epoch is fenced. EndTxn is answered once Prepare* is durable (as Kafka does): the
// markers and Complete* follow in the transactional id's queue, so its next request waits for them, and a
// partition's last stable offset moves only once its marker is durable.

import type { Clock, Logger, TimerHandle } from "../../lib/index.ts";
import type { Groups } from "../groups.ts";
import type { ProducerIds } from "../producer-ids.ts";
import type { Topics } from "../topics.ts";
import { pruneAborted } from "./aborted-pruning.ts";
import type { MarkerType } from "./control-batch.ts";
import { PartitionTxns } from "./partition-txns.ts";
import { TxnEnd } from "./txn-end.ts";
import type { StoredAborted, TxnStore } from "./txn-store.ts";
import type {
  AbortedRange,
  PendingOffset,
  TxnCounts,
  TxnError,
  TxnPartition,
  TxnRecord,
  TxnState,
} from "./txn-types.ts";

/** Kafka's transaction.max.timeout.ms default */
export const TXN_MAX_TIMEOUT_MS = 900_000;
/** Kafka's transactional.id.expiration.ms default: an idle id (no transaction open) is forgotten after it */
export const TXN_ID_EXPIRATION_MS = 7 * 24 * 3_600_000;
const EPOCH_MAX = 32767;

export interface TransactionsOptions {
  store: TxnStore;
  topics: Topics;
  groups: Groups;
  producerIds: ProducerIds;
  clock: Clock;
  logger: Logger;
  /** how often hung transactions are looked for (Kafka: 10 s) */
  abortCheckMs?: number;
}

export interface InitResult {
  error: TxnError;
  producerId: number;
  epoch: number;
}

export interface TxnOffsetCommitInput {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  offsets: Omit<PendingOffset, "groupId">[];
}

const partitionKey = (topicId: string, partition: number) => `${topicId}:${partition}`;
const isIdle = (s: TxnState) => s === "Empty" || s === "CompleteCommit" || s === "CompleteAbort";

export class Transactions {
  private readonly txns = new Map<string, TxnRecord>();
  private readonly byProducer = new Map<number, string>();
  private readonly partitions = new Map<string, PartitionTxns>();
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Complete* saves nobody waits for (close() does) */
  private readonly background = new Set<Promise<void>>();
  /** aborted ranges whose background save failed, stored with the id's next save */
  private readonly unsaved = new Map<string, StoredAborted[]>();
  private pruning = false;
  private timer: TimerHandle | undefined;
  /** transactions ended since start (markers written), for the metrics */
  readonly counts: TxnCounts = { committed: 0, aborted: 0, timedOut: 0 };
  private closed = false;

  private readonly end: TxnEnd;

  private constructor(private readonly opts: TransactionsOptions) {
    this.end = new TxnEnd({
      topics: opts.topics,
      groups: opts.groups,
      clock: opts.clock,
      logger: opts.logger,
      counts: this.counts,
      partitionTxns: (topicId, partition) => this.partitionTxns(topicId, partition),
      save: (t, added) => this.save(t, added),
      carry: (id, added) => this.unsaved.set(id, [...(this.unsaved.get(id) ?? []), ...added]),
      inBackground: (work) => this.inBackground(work),
    });
  }

  /** Loads the state, finishes what was preparing, aborts what was open, then starts the timeout check. */
  static async open(opts: TransactionsOptions): Promise<Transactions> {
    const t = new Transactions(opts);
    for (const a of opts.store.aborted()) {
      const { producerId, firstOffset, lastOffset } = a;
      t.partitionTxns(a.topicId, a.partition).addAborted({ producerId, firstOffset, lastOffset });
    }
    for (const r of opts.store.records()) {
      t.txns.set(r.transactionalId, r);
      t.byProducer.set(r.producerId, r.transactionalId);
      for (const p of r.partitions)
        t.partitionTxns(p.topicId, p.partition).begin(r.producerId, p.firstOffset);
    }
    await t.recover();
    t.pruneAborted();
    t.timer = opts.clock.setRepeating(opts.abortCheckMs ?? 10_000, () => {
      t.abortExpired();
      t.pruneAborted();
    });
    return t;
  }

  private async recover(): Promise<void> {
    for (const r of [...this.txns.values()]) {
      if (r.state === "PrepareCommit" || r.state === "PrepareAbort") await this.end.finishPrepared(r);
      else if (r.state === "Ongoing") {
        this.opts.logger.info(
          { transactionalId: r.transactionalId },
          "aborting a transaction open at restart",
        );
        await this.abortWithBump(r);
      }
    }
  }

  // --- the coordinator API (one call per Kafka request) ---

  initProducerId(transactionalId: string, timeoutMs: number, given?: { producerId: number; epoch: number }) {
    if (!(timeoutMs > 0 && timeoutMs <= TXN_MAX_TIMEOUT_MS)) {
      return Promise.resolve<InitResult>({ error: "INVALID_TRANSACTION_TIMEOUT", producerId: -1, epoch: -1 });
    }
    const unavailable: InitResult = { error: "COORDINATOR_NOT_AVAILABLE", producerId: -1, epoch: -1 };
    return this.guarded(
      transactionalId,
      async (): Promise<InitResult> => {
        let t = this.txns.get(transactionalId);
        if (t === undefined) {
          t = this.fresh(transactionalId, await this.opts.producerIds.allocate(), 0, timeoutMs);
          await this.save(t);
          return { error: "NONE", producerId: t.producerId, epoch: t.epoch };
        }
        if (
          given &&
          given.producerId >= 0 &&
          (given.producerId !== t.producerId || given.epoch !== t.epoch)
        ) {
          return { error: "PRODUCER_FENCED", producerId: -1, epoch: -1 };
        }
        await this.end.finishPrepared(t);
        // an open transaction of the old epoch is aborted under the new one, which fences its producer
        if (t.state === "Ongoing") await this.abortWithBump(t);
        else t.epoch++;
        if (t.epoch >= EPOCH_MAX - 1) {
          this.byProducer.delete(t.producerId);
          t.producerId = await this.opts.producerIds.allocate();
          t.epoch = 0;
        }
        const next = this.fresh(transactionalId, t.producerId, t.epoch, timeoutMs);
        await this.save(next);
        return { error: "NONE", producerId: next.producerId, epoch: next.epoch };
      },
      unavailable,
    );
  }

  addPartitions(
    transactionalId: string,
    producerId: number,
    epoch: number,
    wanted: readonly { topic: string; partition: number }[],
  ): Promise<TxnError | Map<string, TxnError>> {
    return this.guarded<TxnError | Map<string, TxnError>>(
      transactionalId,
      async () => {
        const t = this.txns.get(transactionalId);
        const bad = this.checkProducer(t, producerId, epoch);
        if (bad !== "NONE" || t === undefined) return bad;
        await this.end.finishPrepared(t);
        const missing = new Map<string, TxnError>();
        const added: TxnPartition[] = [];
        for (const w of wanted) {
          const topic = this.opts.topics.get(w.topic);
          const p = topic?.partitions[w.partition];
          if (topic === undefined || p === undefined) {
            missing.set(`${w.topic}:${w.partition}`, "UNKNOWN_TOPIC_OR_PARTITION");
            continue;
          }
          if (
            t.state === "Ongoing" &&
            t.partitions.some((x) => x.topicId === topic.def.topicId && x.partition === w.partition)
          )
            continue;
          added.push({
            topic: w.topic,
            topicId: topic.def.topicId,
            partition: w.partition,
            firstOffset: p.endOffset,
          });
        }
        if (missing.size > 0) return missing;
        await this.change(t, () => {
          this.beginIfIdle(t);
          t.partitions.push(...added);
        });
        for (const a of added) this.partitionTxns(a.topicId, a.partition).begin(t.producerId, a.firstOffset);
        return "NONE";
      },
      "COORDINATOR_NOT_AVAILABLE",
    );
  }

  addOffsets(transactionalId: string, producerId: number, epoch: number, groupId: string): Promise<TxnError> {
    return this.guarded(
      transactionalId,
      async (): Promise<TxnError> => {
        const t = this.txns.get(transactionalId);
        const bad = this.checkProducer(t, producerId, epoch);
        if (bad !== "NONE" || t === undefined) return bad;
        await this.end.finishPrepared(t);
        await this.change(t, () => {
          this.beginIfIdle(t);
          if (!t.groups.includes(groupId)) t.groups.push(groupId);
        });
        return "NONE";
      },
      "COORDINATOR_NOT_AVAILABLE",
    );
  }

  txnOffsetCommit(
    transactionalId: string,
    producerId: number,
    epoch: number,
    c: TxnOffsetCommitInput,
  ): Promise<TxnError> {
    return this.guarded(
      transactionalId,
      async (): Promise<TxnError> => {
        const t = this.txns.get(transactionalId);
        const bad = this.checkProducer(t, producerId, epoch);
        if (bad !== "NONE" || t === undefined) return bad;
        if (t.state !== "Ongoing" || !t.groups.includes(c.groupId)) return "INVALID_TXN_STATE";
        const live = this.opts.groups.find(c.groupId);
        if (live !== undefined && (c.generationId >= 0 || c.memberId !== "")) {
          const check = live.checkCommit(c.generationId, c.memberId, c.groupInstanceId);
          if (check !== "NONE") return check as TxnError;
        }
        await this.change(t, () => {
          for (const o of c.offsets) {
            t.offsets = t.offsets.filter(
              (x) => !(x.groupId === c.groupId && x.topic === o.topic && x.partition === o.partition),
            );
            t.offsets.push({ ...o, groupId: c.groupId });
          }
        });
        return "NONE";
      },
      "COORDINATOR_NOT_AVAILABLE",
    );
  }

  /**
   * Answers once the decision (Prepare*) is durable; the markers and Complete* are written after the answer,
   * still in this id's queue. A crash before they are written is finished at restart (recover()).
   */
  endTxn(transactionalId: string, producerId: number, epoch: number, commit: boolean): Promise<TxnError> {
    const type: MarkerType = commit ? "commit" : "abort";
    const prepare: TxnState = commit ? "PrepareCommit" : "PrepareAbort";
    let answer: (e: TxnError) => void = () => {};
    const answered = new Promise<TxnError>((resolve) => {
      answer = resolve;
    });
    this.serial(transactionalId, async () => {
      const t = this.txns.get(transactionalId);
      const bad = this.checkProducer(t, producerId, epoch);
      if (bad !== "NONE" || t === undefined) return answer(bad);
      // a retry of an end that was answered
      if (t.state === (commit ? "CompleteCommit" : "CompleteAbort")) return answer("NONE");
      if (t.state !== "Ongoing" && t.state !== prepare) return answer("INVALID_TXN_STATE");
      const markers = await this.end.decide(t, type);
      answer("NONE");
      await this.end.writeMarkers(t, type, markers);
    }).catch((err: unknown) => {
      // before the answer: the decision is not durable, the client retries; after it: the markers failed,
      // finished by the next request of this id, the periodic check or a restart
      this.opts.logger.warn({ err, transactionalId }, "ending a transaction failed; retried later");
      answer("COORDINATOR_NOT_AVAILABLE");
    });
    return answered;
  }

  /** Whether a transactional batch of this producer may be appended to the partition. */
  checkProduce(producerId: number, epoch: number, topicId: string, partition: number): TxnError {
    const id = this.byProducer.get(producerId);
    const t = id === undefined ? undefined : this.txns.get(id);
    if (t === undefined) return "INVALID_PRODUCER_ID_MAPPING";
    if (epoch < t.epoch) return "INVALID_PRODUCER_EPOCH";
    if (epoch > t.epoch) return "INVALID_PRODUCER_ID_MAPPING";
    if (t.state !== "Ongoing") return "INVALID_TXN_STATE";
    const joined = t.partitions.some((p) => p.topicId === topicId && p.partition === partition);
    return joined ? "NONE" : "INVALID_TXN_STATE";
  }

  // --- what fetches, listings and the group side read ---

  lastStableOffset(topicId: string, partition: number, highWatermark: number): number {
    return this.partitions.get(partitionKey(topicId, partition))?.lastStable(highWatermark) ?? highWatermark;
  }

  /** Where this producer's open transaction starts in the partition (a lower bound), or -1. */
  openTxnStart(topicId: string, partition: number, producerId: number): number {
    return this.partitions.get(partitionKey(topicId, partition))?.firstOpenOffset(producerId) ?? -1;
  }

  abortedIn(topicId: string, partition: number, from: number, to: number): AbortedRange[] {
    return this.partitions.get(partitionKey(topicId, partition))?.abortedIn(from, to) ?? [];
  }

  /** Whether an open transaction holds offsets for this group partition (OffsetFetch require_stable). */
  hasPendingOffset(groupId: string, topic: string, partition: number): boolean {
    for (const t of this.txns.values()) {
      if (t.state !== "Ongoing" && t.state !== "PrepareCommit") continue;
      if (t.offsets.some((o) => o.groupId === groupId && o.topic === topic && o.partition === partition))
        return true;
    }
    return false;
  }

  /** How many aborted ranges are kept for read_committed fetches, over every partition. */
  abortedRanges(): number {
    let n = 0;
    for (const pt of this.partitions.values()) n += pt.abortedCount;
    return n;
  }

  describe(transactionalId: string): TxnRecord | undefined {
    const t = this.txns.get(transactionalId);
    return t && structuredClone(t);
  }

  list(): TxnRecord[] {
    return [...this.txns.values()].map((t) => structuredClone(t));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.opts.clock.clearTimer(this.timer);
    await this.settled();
    await this.opts.store.close();
  }

  /** Resolves once every queued operation, including markers written after an answer, is done and stored. */
  async settled(): Promise<void> {
    while (this.chains.size > 0 || this.background.size > 0)
      await Promise.allSettled([...this.chains.values(), ...this.background]);
  }

  // --- internals ---

  private fresh(transactionalId: string, producerId: number, epoch: number, timeoutMs: number): TxnRecord {
    const now = this.opts.clock.nowMs();
    const t: TxnRecord = {
      transactionalId,
      producerId,
      epoch,
      timeoutMs,
      state: "Empty",
      partitions: [],
      groups: [],
      offsets: [],
      startMs: -1,
      updatedMs: now,
    };
    this.txns.set(transactionalId, t);
    this.byProducer.set(producerId, transactionalId);
    return t;
  }

  private checkProducer(t: TxnRecord | undefined, producerId: number, epoch: number): TxnError {
    if (t === undefined || t.producerId !== producerId) return "INVALID_PRODUCER_ID_MAPPING";
    if (epoch !== t.epoch) return "PRODUCER_FENCED";
    return "NONE";
  }

  private beginIfIdle(t: TxnRecord): void {
    if (t.state === "Ongoing") return;
    t.state = "Ongoing";
    t.partitions = [];
    t.groups = [];
    t.offsets = [];
    t.startMs = this.opts.clock.nowMs();
  }

  private inBackground(work: Promise<void>): void {
    this.background.add(work);
    work.finally(() => this.background.delete(work));
  }

  /** Forgets the aborted ranges of deleted topics and below log starts (one sweep at a time). */
  private pruneAborted(): void {
    if (this.closed || this.pruning) return;
    const removed = pruneAborted(this.partitions, this.opts.topics);
    if (removed.length === 0) return;
    this.pruning = true;
    const forgetting = this.opts.store
      .forgetAborted(removed)
      .catch((err: unknown) => {
        // they are gone from memory; the store keeps them until a restart sweeps them again
        this.opts.logger.warn({ err }, "forgetting aborted transaction ranges failed");
      })
      .finally(() => {
        this.pruning = false;
      });
    this.inBackground(forgetting);
  }

  /** Aborts the open transaction under the next epoch, so its producer's later requests are fenced. */
  private async abortWithBump(t: TxnRecord): Promise<void> {
    t.epoch++;
    await this.end.complete(t, "abort");
  }

  private abortExpired(): void {
    if (this.closed) return;
    const now = this.opts.clock.nowMs();
    for (const t of this.txns.values()) {
      if (now - t.updatedMs > TXN_ID_EXPIRATION_MS && isIdle(t.state)) {
        this.serial(t.transactionalId, () => this.expire(t)).catch((err: unknown) => {
          this.opts.logger.warn(
            { err, transactionalId: t.transactionalId },
            "expiring a transactional id failed",
          );
        });
        continue;
      }
      const hung = t.state === "Ongoing" && now - t.startMs > t.timeoutMs;
      const stuck = t.state === "PrepareCommit" || t.state === "PrepareAbort";
      if (!hung && !stuck) continue;
      const id = t.transactionalId;
      this.serial(id, async () => {
        // looked up again: an InitProducerId may have replaced the record while this waited
        const cur = this.txns.get(id);
        if (cur === undefined) return;
        if (cur.state === "Ongoing" && this.opts.clock.nowMs() - cur.startMs > cur.timeoutMs) {
          this.opts.logger.info(
            { transactionalId: id, timeoutMs: cur.timeoutMs },
            "aborting a transaction past its timeout",
          );
          await this.abortWithBump(cur);
          this.counts.timedOut++;
        } else await this.end.finishPrepared(cur);
      }).catch((err: unknown) => {
        this.opts.logger.warn(
          { err, transactionalId: t.transactionalId },
          "transaction end failed; retried later",
        );
      });
    }
  }

  /** Forgets an idle transactional id; a producer that comes back later gets a new producer id. */
  private async expire(t: TxnRecord): Promise<void> {
    if (this.txns.get(t.transactionalId) !== t || !isIdle(t.state)) return;
    if (this.opts.clock.nowMs() - t.updatedMs <= TXN_ID_EXPIRATION_MS) return;
    await this.opts.store.remove(t.transactionalId);
    this.txns.delete(t.transactionalId);
    this.byProducer.delete(t.producerId);
  }

  private partitionTxns(topicId: string, partition: number): PartitionTxns {
    const key = partitionKey(topicId, partition);
    let pt = this.partitions.get(key);
    if (pt === undefined) {
      pt = new PartitionTxns(topicId, partition);
      this.partitions.set(key, pt);
    }
    return pt;
  }

  /** Applies `mutate` and stores the result; if the store fails, the record is as it was (nothing half-done). */
  private async change(t: TxnRecord, mutate: () => void): Promise<void> {
    const before = structuredClone(t);
    mutate();
    try {
      await this.save(t);
    } catch (e) {
      Object.assign(t, before);
      throw e;
    }
  }

  /** Stores the record whole, with any aborted ranges a failed background save left to store. */
  private async save(t: TxnRecord, added: StoredAborted[] = []): Promise<void> {
    t.updatedMs = this.opts.clock.nowMs();
    const carry = this.unsaved.get(t.transactionalId);
    if (carry === undefined) return this.opts.store.save(t, added);
    this.unsaved.delete(t.transactionalId);
    try {
      await this.opts.store.save(t, [...carry, ...added]);
    } catch (e) {
      this.unsaved.set(t.transactionalId, carry);
      throw e;
    }
  }

  /**
   * Runs an operation in `serial`; a failure to store (a full disk, a failed fsync) answers
   * COORDINATOR_NOT_AVAILABLE, which clients retry: a Prepare* state left behind is finished by the retry.
   */
  private guarded<T>(transactionalId: string, fn: () => Promise<T>, unavailable: T): Promise<T> {
    return this.serial(transactionalId, fn).catch((err: unknown) => {
      this.opts.logger.warn({ err, transactionalId }, "transaction state could not be stored");
      return unavailable;
    });
  }

  /** Runs `fn` after every earlier operation on the same transactional id. */
  private serial<T>(transactionalId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(transactionalId) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.then(
      () => {},
      () => {},
    );
    this.chains.set(transactionalId, tail);
    tail.then(() => {
      if (this.chains.get(transactionalId) === tail) this.chains.delete(transactionalId);
    });
    return run;
  }
}
