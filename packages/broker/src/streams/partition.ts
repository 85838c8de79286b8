// One stream partition: a log plus the waiters that long-polling fetches park on.
// Invariant: every waiter is woken after each acknowledged append, and removed once it is woken or gone.

import { BATCH_LOG_OVERHEAD, readInt64 } from "@spindle/protocol";
import type { AppendResult, Log, LogConfig, ReadResult, TimestampLookup } from "../log/index.ts";
import { ProducerState, type SequenceOutcome } from "./producer-state.ts";
import { controlBatch, isControlBatch, type MarkerType } from "./transactions/control-batch.ts";

export type AppendListener = () => void;

const RECYCLE = { recycle: true };

export class Partition {
  private readonly listeners = new Set<AppendListener>();
  private readonly producers = new ProducerState();
  /** steps waiting to run in arrival order (see inOrder), and the promise the next one chains on */
  private pendingSteps = 0;
  private tail: Promise<void> = Promise.resolve();
  /** one chunk read ahead for the consumer that will most likely ask for it next */
  private readAhead: { offset: number; maxBytes: number; result: Promise<ReadResult> } | null = null;

  constructor(
    readonly topic: string,
    readonly index: number,
    readonly log: Log,
    /** shared with the FileLog, which reads it at use time */
    readonly logConfig: LogConfig,
  ) {}

  get startOffset(): number {
    return this.log.startOffset;
  }

  get endOffset(): number {
    return this.log.endOffset;
  }

  /**
   * The first record with a timestamp at or after `timestampMs`, never below the start (its offset may have
   * been deleted since), or null when every record is older: ListOffsets, the record browser and offset resets.
   */
  async offsetForTimestamp(timestampMs: number): Promise<TimestampLookup | null> {
    const found = await this.log.offsetForTimestamp(timestampMs);
    return found && { offset: Math.max(found.offset, this.startOffset), timestamp: found.timestamp };
  }

  /** The first record holding the newest timestamp in the log (ListOffsets' -3), or null when it is empty. */
  async maxTimestampRecord(): Promise<TimestampLookup | null> {
    const max = this.log.maxTimestamp;
    return max < 0 ? null : this.offsetForTimestamp(max);
  }

  /** Appends one batch (offsets are assigned at call time, so call order is log order). */
  async append(batch: Buffer): Promise<AppendResult> {
    const result = await this.log.append(batch);
    this.wake();
    return result;
  }

  /**
   * Runs `step` after every earlier step on this partition: at once (synchronously) when none is waiting,
   * else chained. Produce uses it so a batch that needs async checking (decompression) keeps its place.
   */
  inOrder<T>(step: () => T | Promise<T>): T | Promise<T> {
    if (this.pendingSteps === 0) {
      const r = step();
      return r instanceof Promise ? this.track(r) : r;
    }
    return this.track(this.tail.then(step));
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.pendingSteps++;
    this.tail = p.then(
      () => {
        this.pendingSteps--;
      },
      () => {
        this.pendingSteps--;
      },
    );
    return p;
  }

  /**
   * Appends a batch unless it repeats or skips an idempotent producer's sequence numbers. The check and
   * the append happen in one synchronous step, so pipelined batches are judged in arrival order.
   */
  appendChecked(batch: Buffer): { outcome: SequenceOutcome; result: Promise<AppendResult> | null } {
    const producerId = readInt64(batch, 43);
    if (producerId < 0) return { outcome: { kind: "append" }, result: this.append(batch) };
    const firstSeq = batch.readInt32BE(53);
    const lastSeq = (firstSeq + batch.readInt32BE(23)) % 2 ** 31;
    const id = { producerId, epoch: batch.readInt16BE(51), firstSeq, lastSeq };
    const outcome = this.producers.check(id);
    if (outcome.kind === "duplicate") return { outcome, result: outcome.result };
    if (outcome.kind !== "append") return { outcome, result: null };
    const result = this.append(batch);
    this.producers.record(id, result);
    return { outcome, result };
  }

  /** The producers this partition knows (DescribeProducers). */
  producerStates(): { producerId: number; epoch: number; lastSeq: number }[] {
    return this.producers.list();
  }

  /**
   * Appends a transaction's commit or abort marker after every batch already queued here, and fences the
   * producer's older epochs (a marker may carry an epoch the partition has not seen: a bump by the coordinator).
   */
  appendMarker(producerId: number, epoch: number, type: MarkerType, nowMs: number): Promise<AppendResult> {
    const batch = controlBatch(producerId, epoch, type, nowMs);
    return Promise.resolve(
      this.inOrder(() => {
        this.producers.fence(producerId, epoch);
        return this.append(batch);
      }),
    );
  }

  /**
   * Reads like the log, and then starts reading the next chunk a sequential consumer will ask for, so
   * that its next fetch finds the data ready instead of waiting on the disk read and the CRC checks.
   * The data may lie in a recycled buffer: the caller calls `release` once nothing uses it (optional).
   */
  read(offset: number, maxBytes: number): Promise<ReadResult> {
    const ahead = this.readAhead;
    this.readAhead = null;
    const hit = ahead !== null && ahead.offset === offset && ahead.maxBytes === maxBytes;
    // a read-ahead nobody asked for gives its buffer back
    if (ahead !== null && !hit)
      ahead.result.then(
        (r) => r.release?.(),
        () => {},
      );
    const result = hit ? ahead.result : this.log.read(offset, maxBytes, RECYCLE);
    result.then(
      (r) => {
        if (r.data.length > 0 && r.nextOffset < this.endOffset && this.readAhead === null) {
          const next = this.log.read(r.nextOffset, maxBytes, RECYCLE);
          next.catch(() => {}); // a failed read-ahead is reported to whoever asks for it, not here
          this.readAhead = { offset: r.nextOffset, maxBytes, result: next };
        }
      },
      () => {},
    );
    return result;
  }

  /**
   * Rebuilds idempotent-producer state from the tail of the log (the last `records` offsets, at most
   * `maxBytes`), so a producer retrying a batch that was appended just before a restart is not duplicated.
   */
  async recoverProducers(records = 10_000, maxBytes = 8 * 1024 * 1024): Promise<number> {
    if (this.endOffset <= this.startOffset) return 0;
    // Most logs have no idempotent producer at their tail: one batch read tells, and skips the scan.
    const tail = await this.log.read(this.endOffset - 1, 1);
    if (tail.data.length < 61 || readInt64(tail.data, 43) < 0) return 0;
    let offset = Math.max(this.startOffset, this.endOffset - records);
    let budget = maxBytes;
    let seen = 0;
    while (offset < this.endOffset && budget > 0) {
      const { data, nextOffset } = await this.log.read(offset, Math.min(budget, 1024 * 1024));
      if (data.length === 0 || nextOffset <= offset) break;
      for (let pos = 0; pos < data.length; pos += BATCH_LOG_OVERHEAD + data.readInt32BE(pos + 8)) {
        const batch = data.subarray(pos);
        const producerId = readInt64(batch, 43);
        if (producerId < 0) continue;
        if (isControlBatch(batch)) {
          // a marker carries no sequence numbers, only the epoch its producer must have from now on
          this.producers.fence(producerId, batch.readInt16BE(51));
          continue;
        }
        const baseOffset = readInt64(batch, 0);
        const lastOffset = baseOffset + batch.readInt32BE(23);
        const firstSeq = batch.readInt32BE(53);
        const id = {
          producerId,
          epoch: batch.readInt16BE(51),
          firstSeq,
          lastSeq: (firstSeq + batch.readInt32BE(23)) % 2 ** 31,
        };
        this.producers.record(id, Promise.resolve({ baseOffset, lastOffset }));
        seen++;
      }
      budget -= data.length;
      offset = nextOffset;
    }
    return seen;
  }

  /** Calls `listener` after each acknowledged append until the returned function is called. */
  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private wake(): void {
    for (const l of [...this.listeners]) l();
  }
}
