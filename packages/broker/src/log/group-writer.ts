// A log's single writer: appends queue up, are written to the active segment in groups (group commit, up
// to two groups in flight) and are acknowledged in order. Invariant: only the writer changes the active
// segment, and a group is acknowledged only after every group before it.

import { assert, BrokerError, type Clock, LIMITS } from "../lib/index.ts";
import { acksAfterSync } from "./fsync-policy.ts";
import type { AppendResult, LogConfig } from "./log.ts";
import type { Segment } from "./segment.ts";
import type { SyncLatency } from "./sync-latency.ts";

export interface PendingAppend {
  batch: Buffer;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

/** What the writer needs of its log. */
export interface WriterHost {
  readonly config: LogConfig;
  readonly clock: Clock;
  readonly syncLatency: SyncLatency | undefined;
  /** the segment appends go to */
  active(): Segment;
  /** seals the active segment (syncing it) and starts the next */
  roll(): Promise<void>;
  /** `run` was written to a segment a roll then synced: its appends are durable */
  acknowledge(run: PendingAppend[]): void;
  /** `run` was the last written to the active segment: readers see it and its appends resolve */
  commit(run: PendingAppend[]): void;
  /** a write, sync or roll failed: `failed` and everything queued is rejected (see rejectQueued) */
  writeFailed(cause: unknown, failed: PendingAppend[]): Promise<void>;
}

/** A group whose write to `seg` at `pos` is in flight; `done` settles with the write's error, if any. */
interface GroupWrite {
  seg: Segment;
  group: PendingAppend[];
  pos: number;
  bytes: number;
  done: Promise<{ error: unknown } | null>;
}

/** Groups written at once: with two, a produce benchmark's disk was busy most of the time (see drain). */
const WRITES_IN_FLIGHT_MAX = 2;

export class GroupWriter {
  private queue: PendingAppend[] = [];
  private queuedBytes = 0;
  private writing = false;
  /** groups being written, oldest first */
  private inFlight: GroupWrite[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly host: WriterHost) {}

  /** Refuses an append while too many wait for the disk (the caller has not given out offsets yet). */
  checkRoom(): void {
    if (this.queue.length >= LIMITS.pendingAppendsMax || this.queuedBytes > LIMITS.pendingAppendBytesMax) {
      throw new BrokerError("LIMIT_EXCEEDED", "too many appends are waiting for the disk; retry later");
    }
  }

  enqueue(p: PendingAppend): void {
    this.queue.push(p);
    this.queuedBytes += p.batch.length;
    this.drain();
  }

  /** Rejects `failed` and every queued append with `e`. */
  rejectQueued(e: unknown, failed: PendingAppend[]): void {
    for (const p of [...failed, ...this.queue.splice(0)]) p.reject(e);
    this.queuedBytes = 0;
  }

  /** Runs `fn` as the writer, between group commits: only the writer changes the active segment. */
  async asWriter(fn: () => Promise<void>): Promise<void> {
    while (this.writing) await new Promise<void>((wake) => this.idleWaiters.push(wake));
    this.writing = true;
    try {
      await fn();
    } finally {
      this.releaseWriter();
      this.drain();
    }
  }

  /**
   * Takes what is queued as a group, writes it, syncs once, acknowledges it all. Groups that fit the
   * active segment are written while earlier ones are still in flight (up to WRITES_IN_FLIGHT_MAX): with
   * O_DSYNC each write waits for the disk, and one at a time left the disk idle while the event loop
   * acknowledged a group and took the next.
   */
  private drain(): void {
    if (!this.writing) void this.writeAll();
    else if (this.inFlight.length > 0 && this.inFlight.length < WRITES_IN_FLIGHT_MAX) this.startGroupWrite();
  }

  private async writeAll(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0 || this.inFlight.length > 0) {
      if (this.inFlight.length === 0 && !this.startGroupWrite()) {
        // the next group rolls the segment: written on its own
        const group = this.takeGroup();
        try {
          await this.writeGroup(group);
        } catch (e) {
          await this.host.writeFailed(e, group);
        }
        continue;
      }
      while (this.queue.length > 0 && this.inFlight.length < WRITES_IN_FLIGHT_MAX && this.startGroupWrite());
      await this.finishGroupWrite();
    }
    this.releaseWriter();
  }

  private releaseWriter(): void {
    this.writing = false;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Starts writing the next group after those in flight, unless it does not fit the active segment. */
  private startGroupWrite(): boolean {
    const seg = this.host.active();
    const last = this.inFlight[this.inFlight.length - 1];
    const pos = last === undefined ? seg.size : last.pos + last.bytes;
    const bytes = this.nextGroup().bytes;
    if (!this.fits(seg, pos + bytes)) return false;
    const group = this.takeGroup();
    const done = this.writeBatches(seg, group, pos).then(
      () => null,
      (e: unknown) => ({ error: e }),
    );
    this.inFlight.push({ seg, group, pos, bytes, done });
    return true;
  }

  /**
   * Waits for the oldest write in flight and acknowledges its group. When it failed, the writes after it
   * fail with it (a full disk's rewind cuts them all), once they have settled.
   */
  private async finishGroupWrite(): Promise<void> {
    const w = this.inFlight[0]!;
    const result = await w.done;
    if (result !== null) {
      const writes = this.inFlight.splice(0);
      for (const later of writes) await later.done;
      await this.host.writeFailed(
        result.error,
        writes.flatMap((x) => x.group),
      );
      return;
    }
    this.inFlight.shift();
    assert(w.seg === this.host.active() && w.seg.size === w.pos, "a group was written out of order");
    this.recordRun(w.seg, w.group);
    this.host.commit(w.group);
  }

  /** How many queued appends the next group takes, and their bytes. */
  private nextGroup(): { n: number; bytes: number } {
    const oneAtATime = this.host.config.fsync.mode === "always";
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && (n === 0 || (!oneAtATime && bytes < LIMITS.groupCommitBytesMax))) {
      bytes += this.queue[n]!.batch.length;
      n++;
    }
    return { n, bytes };
  }

  private takeGroup(): PendingAppend[] {
    const { n, bytes } = this.nextGroup();
    this.queuedBytes -= bytes;
    return this.queue.splice(0, n);
  }

  /** Writes a group that needs a roll: what fits goes to the active segment, the rest after the roll. */
  private async writeGroup(group: PendingAppend[]): Promise<void> {
    let run: PendingAppend[] = [];
    let runBytes = 0;
    for (const p of group) {
      if (this.needsRoll(runBytes + p.batch.length)) {
        await this.writeRun(run);
        await this.host.roll();
        // the roll synced the old segment in every policy: what was written to it is durable
        this.host.acknowledge(run);
        run = [];
        runBytes = 0;
      }
      run.push(p);
      runBytes += p.batch.length;
    }
    await this.writeRun(run);
    this.host.commit(run);
  }

  /** Whether `seg` may grow to `end` bytes without a roll (by size, or by segment.ms). */
  private fits(seg: Segment, end: number): boolean {
    return end <= this.host.config.segmentBytes && this.host.clock.nowMs() < seg.rollAtMs;
  }

  /** An empty segment takes what comes, whatever its size or age. */
  private needsRoll(bytes: number): boolean {
    const seg = this.host.active();
    return !seg.isEmpty && !this.fits(seg, seg.size + bytes);
  }

  private async writeRun(run: PendingAppend[]): Promise<void> {
    if (run.length === 0) return;
    const seg = this.host.active();
    await this.writeBatches(seg, run, seg.size);
    this.recordRun(seg, run);
  }

  /** Writes `run`'s batches at `pos` of `seg`; under group/always the segment is open with O_DSYNC: this
   *  write is the sync, and is timed as one. */
  private async writeBatches(seg: Segment, run: PendingAppend[], pos: number): Promise<void> {
    const timer = acksAfterSync(this.host.config.fsync) ? this.host.syncLatency : undefined;
    const startMs = timer?.now() ?? 0;
    if (run.length === 1) await seg.fh.write(run[0]!.batch, pos);
    else
      await seg.fh.writev(
        run.map((p) => p.batch),
        pos,
      );
    timer?.since(startMs);
  }

  /** Indexes `run`, just written at the end of `seg`, and moves the segment's end past it. */
  private recordRun(seg: Segment, run: PendingAppend[]): void {
    const index = seg.index!;
    // every batch passed checkAppendable's CRC check: a checked prefix stays one
    const extendsChecked = seg.checkedBytes === seg.size;
    for (const p of run) {
      index.onBatch(p.baseOffset, seg.size, p.batch.length, p.maxTimestamp);
      seg.size += p.batch.length;
      seg.maxTimestamp = Math.max(seg.maxTimestamp, p.maxTimestamp);
    }
    seg.nextOffset = run[run.length - 1]!.lastOffset + 1;
    if (extendsChecked) seg.checkedBytes = seg.size;
  }
}
