// The file-backed log: appends (written by group-writer.ts), segment roll, reads, retention, start-offset moves.
// Invariant: an append resolves only after the policy's fsync covers it; after a failed write or fsync
// the log refuses every later append (nothing unsynced is ever acknowledged) and keeps serving reads —
// except a full disk: the log cuts back to its last acknowledged batch and accepts appends once space is back.

import { join } from "node:path";
import {
  BATCH_LAST_OFFSET_DELTA,
  BATCH_MAX_TIMESTAMP,
  encodeRecordBatch,
  type RecordInput,
  readInt64,
  setBaseOffset,
} from "@spindle/protocol";
import { assert, BrokerError, type Clock, crc32c, type Fs, type Logger } from "../lib/index.ts";
import { checkAppendable } from "./append-check.ts";
import { isFiller } from "./cleaner/batch-filter.ts";
import type { CleanerHost } from "./cleaner/clean-log.ts";
import type { CleanedCopy } from "./cleaner/clean-segments.ts";
import { oldestTimestamp } from "./cleaner/first-timestamp.ts";
import { commitSwap, finishSwap, type SwapStep } from "./cleaner/swap.ts";
import { type DamageCounts, type DamageStats, LogDamage } from "./damage.ts";
import {
  type AckedMark,
  DiskFullState,
  isDiskFull,
  markOf,
  probeFreeSpace,
  rewindSegment,
} from "./disk-full.ts";
import { writeCleanEnd } from "./end-offset.ts";
import { acksAfterSync } from "./fsync-policy.ts";
import { GroupWriter, type PendingAppend } from "./group-writer.ts";
import type { AppendResult, Log, LogConfig, ReadOptions, ReadResult, TimestampLookup } from "./log.ts";
import { OpenFiles } from "./open-files.ts";
import { recoverLog } from "./recovery.ts";
import { activeExpired, countPastRetention } from "./retention.ts";
import { walkBatches } from "./scan.ts";
import type { Scrubbable, Scrubber } from "./scrubber.ts";
import { SealedIndexes } from "./sealed-indexes.ts";
import { OFFSET_INDEX_SUFFIX, SEGMENT_SUFFIX, Segment, segmentName, TIME_INDEX_SUFFIX } from "./segment.ts";
import { SegmentFile } from "./segment-file.ts";
import type { SegmentIndex } from "./segment-index.ts";
import { findTimestamp, readSegment } from "./segment-reader.ts";
import { createNextSegment } from "./segment-roll.ts";
import { writeStartOffset } from "./start-offset.ts";
import type { SyncLatency } from "./sync-latency.ts";

/** What watches every log: the broker-wide damage counters, the background verifier, the sync latencies. */
export interface DamageWatch {
  /** the broker-wide damage counters this log adds to */
  damageStats?: DamageStats;
  /** verifies the sealed segments in the background */
  scrubber?: Scrubber;
  /** the broker-wide histogram of how long this log's syncs to disk take */
  syncLatency?: SyncLatency;
}

export interface FileLogOptions extends DamageWatch {
  fs: Fs;
  dir: string;
  config: LogConfig;
  clock: Clock;
  logger: Logger;
  /** offsets below it are known to have been durable (e.g. a snapshot of the owner covers them) */
  durableEndOffset?: number;
  /** where the log starts when its directory holds no segment yet (its owner's data begins there) */
  startOffsetIfNew?: number;
  /** the cache of open segment files shared by the broker's logs; a log of its own when absent */
  files?: OpenFiles;
}

/** Index entries hold 32-bit file positions. */
const SEGMENT_BYTES_MAX = 2 ** 32 - 1;

export class FileLog implements Log, Scrubbable, CleanerHost {
  private nextOffset: number;
  private ackedEnd: number;
  private start: number;
  private readonly writer: GroupWriter;
  private failure: BrokerError | null = null;
  private closed = false;
  private dirty = false;
  private syncTimer: NodeJS.Timeout | undefined;
  /** the deleteRecordsBefore calls in flight, chained */
  private trimming: Promise<void> = Promise.resolve();
  private acked: AckedMark;
  private readonly diskFull: DiskFullState;
  /** where the background verification goes on: segment base offset, file position, offset there */
  private scrubAt = { base: -1, pos: 0, expected: 0 };
  /** the verification step in progress: close() waits for it before closing the files */
  private scrubbing: Promise<void> | null = null;

  private readonly sealedIndexes: SealedIndexes;

  private constructor(
    private readonly opts: FileLogOptions & { files: OpenFiles },
    private segments: Segment[],
    startOffset: number,
    private readonly damaged: LogDamage,
  ) {
    this.sealedIndexes = new SealedIndexes(opts.fs, opts.config.indexIntervalBytes);
    this.writer = new GroupWriter({
      config: opts.config,
      clock: opts.clock,
      syncLatency: opts.syncLatency,
      active: () => this.active,
      roll: () => this.roll(),
      acknowledge: (run) => this.acknowledge(run),
      commit: (run) => this.commit(run),
      writeFailed: (cause, failed) => this.writeFailed(cause, failed),
    });
    this.nextOffset = this.active.nextOffset;
    this.ackedEnd = this.nextOffset;
    this.start = Math.min(startOffset, this.nextOffset);
    this.acked = markOf(this.active);
    this.diskFull = new DiskFullState(
      opts.dir,
      opts.logger,
      () => this.probeSpace(),
      (e) => this.fail(e, []),
    );
    const fsync = opts.config.fsync;
    if (fsync.mode === "interval") {
      this.syncTimer = setInterval(() => void this.syncIfDirty(), fsync.intervalMs);
      this.syncTimer.unref();
    }
  }

  static async open(opts: FileLogOptions): Promise<FileLog> {
    const { segmentBytes } = opts.config;
    if (!(segmentBytes >= 1024 && segmentBytes <= SEGMENT_BYTES_MAX)) {
      throw new BrokerError(
        "INVALID_CONFIG",
        `segment size ${segmentBytes} must be from 1024 to ${SEGMENT_BYTES_MAX} bytes`,
      );
    }
    const files = opts.files ?? OpenFiles.unshared(opts.logger);
    // Every open waits out EMFILE (closing idle segment files first) instead of failing the log.
    const patient = { ...opts, files, fs: files.patientFs(opts.fs) };
    const damaged = new LogDamage(opts.logger, opts.damageStats);
    const recovered = await recoverLog({ ...patient, damage: damaged });
    const log = new FileLog(patient, recovered.segments, recovered.startOffset, damaged);
    opts.scrubber?.add(log);
    return log;
  }

  get dir(): string {
    return this.opts.dir;
  }

  /** Verifies about `maxBytes` more of the sealed segments (the background scrubber calls it). */
  scrubStep(maxBytes: number): Promise<number> {
    if (this.closed) return Promise.resolve(0);
    const step = this.scrubNext(maxBytes);
    this.scrubbing = step.then(
      () => undefined,
      () => undefined, // the scrubber reports it
    );
    return step;
  }

  private async scrubNext(maxBytes: number): Promise<number> {
    const i = this.segments.findIndex(
      (s, k) => k < this.segments.length - 1 && s.baseOffset >= this.scrubAt.base,
    );
    if (i < 0) return 0;
    const seg = this.segments[i]!;
    // a walk from a segment's start expects its base offset: after a segment of one offset, the marker
    // `base + 1` names the next segment exactly, and its stale `expected` made healthy batches "damage"
    if (seg.baseOffset !== this.scrubAt.base || this.scrubAt.pos === 0)
      this.scrubAt = { base: seg.baseOffset, pos: 0, expected: seg.baseOffset };
    const { pos, expected } = this.scrubAt;
    const opts = { from: pos, to: seg.visibleBytes, expectedOffset: expected, endOffset: this.segmentEnd(i) };
    const r = await this.withSegment(seg, () =>
      walkBatches(
        seg,
        this.damaged,
        { ...opts, foundBy: "verifier" },
        (b) => b.pos + b.size - pos < maxBytes,
      ),
    );
    this.damaged.add({ verifiedBytes: r.end - pos });
    if (pos <= seg.checkedBytes && this.damaged.of(seg.baseOffset).length === 0)
      seg.checkedBytes = Math.max(seg.checkedBytes, r.end);
    if (r.problem !== null || r.end >= seg.visibleBytes)
      this.scrubAt = { base: seg.baseOffset + 1, pos: 0, expected: 0 };
    else this.scrubAt = { base: seg.baseOffset, pos: r.end, expected: r.nextOffset };
    return Math.max(1, r.end - pos);
  }

  get fs(): Fs {
    return this.opts.fs;
  }
  get damageLog(): LogDamage {
    return this.damaged;
  }
  get indexIntervalBytes(): number {
    return this.opts.config.indexIntervalBytes;
  }
  get segmentBytes(): number {
    return this.opts.config.segmentBytes;
  }
  /** the newest record timestamp still in the log, -1 when none */
  get maxTimestamp(): number {
    let max = -1;
    for (const s of this.segments) if (s.nextOffset > this.start) max = Math.max(max, s.maxTimestamp);
    return max;
  }

  get damage(): Readonly<DamageCounts> {
    return this.damaged.counts;
  }

  get startOffset(): number {
    return this.start;
  }
  get endOffset(): number {
    return this.ackedEnd;
  }
  get sizeBytes(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }
  get segmentCount(): number {
    return this.segments.length;
  }
  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  async append(batch: Buffer): Promise<AppendResult> {
    this.checkWritable();
    checkAppendable(batch, this.opts.config.segmentBytes);
    this.writer.checkRoom();
    const baseOffset = this.nextOffset;
    const lastOffset = baseOffset + batch.readInt32BE(BATCH_LAST_OFFSET_DELTA);
    const maxTimestamp = readInt64(batch, BATCH_MAX_TIMESTAMP);
    this.nextOffset = lastOffset + 1;
    setBaseOffset(batch, 0, baseOffset);
    return new Promise<AppendResult>((resolve, reject) =>
      this.writer.enqueue({ batch, baseOffset, lastOffset, maxTimestamp, resolve, reject }),
    );
  }

  appendRecords(records: readonly RecordInput[], timestampMs?: number): Promise<AppendResult> {
    const timestamp = timestampMs ?? this.opts.clock.nowMs();
    return this.append(encodeRecordBatch({ records, timestamp }, crc32c));
  }

  private checkWritable(): void {
    if (this.closed) throw new BrokerError("LOG_CLOSED", `log ${this.opts.dir} is closed`);
    if (this.failure) throw this.failure;
    if (this.diskFull.error) throw this.diskFull.error;
  }

  writable(): Promise<void> {
    if (this.closed) return Promise.reject(new BrokerError("LOG_CLOSED", `log ${this.opts.dir} is closed`));
    if (this.failure) return Promise.reject(this.failure);
    return this.diskFull.writable();
  }

  /** Probes the disk now if the log is refusing appends for a full disk (e.g. space was just freed). */
  async retryWrites(): Promise<boolean> {
    return !this.closed && this.failure === null && (await this.diskFull.retryNow()) && this.failure === null;
  }

  /** `run` was the last written to the active segment: readers see it and its appends resolve. */
  private commit(run: PendingAppend[]): void {
    const seg = this.active;
    // under group/always, segments are written with O_DSYNC: the write itself was the fdatasync
    if (!acksAfterSync(this.opts.config.fsync)) this.dirty = true;
    seg.visibleBytes = seg.size;
    this.acked = markOf(seg);
    this.acknowledge(run);
    this.diskFull.written();
  }

  private acknowledge(run: PendingAppend[]): void {
    if (run.length === 0) return;
    this.ackedEnd = run[run.length - 1]!.lastOffset + 1;
    for (const p of run) p.resolve({ baseOffset: p.baseOffset, lastOffset: p.lastOffset });
  }

  /** Seals the active segment and starts the next; a roll that fails leaves the old one active. */
  private async roll(): Promise<void> {
    const old = this.active;
    const seg = await createNextSegment(this.opts, old);
    old.visibleBytes = old.size;
    this.sealedIndexes.touch(old);
    this.segments.push(seg);
    this.acked = markOf(seg);
  }

  /**
   * A write, sync or roll failed. A full disk rejects the appends not yet acknowledged (never confirmed),
   * cuts the active segment back to its last acknowledged batch and refuses appends until a probe finds
   * space again; any other failure is final.
   */
  private async writeFailed(cause: unknown, group: PendingAppend[]): Promise<void> {
    if (!isDiskFull(cause) || this.failure) {
      this.fail(cause, group);
      return;
    }
    const refusal = this.diskFull.enter(reason(cause));
    this.writer.rejectQueued(refusal, group);
    this.nextOffset = this.ackedEnd;
    assert(this.acked.nextOffset === this.ackedEnd, `log ${this.opts.dir}: acked mark is not the acked end`);
    await rewindSegment(this.active, this.acked).catch((e: unknown) => this.fail(e, []));
  }

  /** As the writer: is there room on the disk again? */
  private async probeSpace(): Promise<boolean> {
    let ok = false;
    await this.writer.asWriter(async () => {
      if (this.failure === null && !this.closed) ok = await probeFreeSpace(this.opts.fs, this.opts.dir);
    });
    return ok;
  }

  private fail(cause: unknown, group: PendingAppend[]): void {
    const why = reason(cause);
    this.failure ??= new BrokerError(
      "LOG_FAILED",
      `log ${this.opts.dir} refuses writes after a failed write or fsync (${why}); reads go on; ` +
        "restart the broker to run recovery once the disk is healthy",
      { dir: this.opts.dir, cause: why },
    );
    this.opts.logger.error({ dir: this.opts.dir, cause: why }, "log write failed; refusing further appends");
    this.writer.rejectQueued(this.failure, group);
    this.diskFull.stop(this.failure);
  }

  private async syncIfDirty(): Promise<void> {
    if (!this.dirty || this.failure) return;
    this.dirty = false;
    try {
      await this.datasync();
    } catch (e) {
      this.fail(e, []);
    }
  }

  private async datasync(): Promise<void> {
    const startMs = this.opts.syncLatency?.now() ?? 0;
    await this.active.fh.datasync();
    this.opts.syncLatency?.since(startMs);
  }

  async read(offset: number, maxBytes: number, opts?: ReadOptions): Promise<ReadResult> {
    if (offset < this.start || offset > this.ackedEnd) {
      throw new BrokerError(
        "OFFSET_OUT_OF_RANGE",
        `offset ${offset} is outside the log [${this.start}, ${this.ackedEnd}]`,
        { startOffset: this.start, endOffset: this.ackedEnd },
      );
    }
    while (offset < this.ackedEnd) {
      // The segment is looked up by offset at every step, never by position in the list: a cleaner swap
      // during the await below replaces segments, and the next position then named a later segment (a
      // fetch stepped over kept records).
      const i = this.segmentFor(offset);
      const seg = this.segments[i]!;
      offset = Math.max(offset, seg.baseOffset); // a missing segment leaves a gap: go on after it
      if (offset >= seg.nextOffset) {
        offset = this.segmentEnd(i);
        continue;
      }
      const ctx = { damage: this.damaged, endOffset: this.segmentEnd(i) };
      const r = await this.withSegment(seg, (index) =>
        readSegment(
          seg,
          index,
          offset,
          maxBytes,
          this.opts.config.indexIntervalBytes * 2,
          ctx,
          opts?.recycle,
        ),
      );
      const data = withoutLeadingFillers(r.data);
      if (data.length > 0) return { data, nextOffset: r.nextOffset, release: r.release };
      r.release?.();
      // past offsets the cleaner removed, what follows may still be in this segment; past damage that
      // nothing intact follows in it, the read goes on at its end (a cleaned copy keeps its offsets)
      const more = r.data.length > 0 && r.nextOffset < seg.nextOffset;
      offset = Math.max(offset, r.nextOffset, more ? 0 : seg.nextOffset);
    }
    return { data: Buffer.alloc(0), nextOffset: Math.min(offset, this.ackedEnd) };
  }

  /** The offset after segment `i`'s last readable batch. */
  private segmentEnd(i: number): number {
    const next = this.segments[i + 1];
    return next ? next.baseOffset : this.ackedEnd;
  }

  async offsetForTimestamp(timestampMs: number): Promise<TimestampLookup | null> {
    let offset = this.start;
    while (offset < this.ackedEnd) {
      // As in read(): the segment is looked up by offset at every step, never by position in the list. A
      // cleaner swap during the await below shortens the list, and the next position named a later
      // segment: when the segment being searched had its new enough records only below the start offset,
      // the lookup stepped over the segments merged with it and answered a later record.
      offset = Math.max(offset, this.start);
      const i = this.segmentFor(offset);
      const seg = this.segments[i]!;
      offset = Math.max(offset, seg.baseOffset); // a missing segment leaves a gap: go on after it
      if (offset >= seg.nextOffset || seg.maxTimestamp < timestampMs) {
        offset = this.segmentEnd(i);
        continue;
      }
      const ctx = { damage: this.damaged, endOffset: this.segmentEnd(i) };
      const at = offset;
      const found = await this.withSegment(seg, (index) => {
        const from = Math.max(index.offsetBeforeTime(timestampMs), at, this.start);
        return findTimestamp(seg, index, from, timestampMs, ctx);
      });
      if (found) return found;
      offset = seg.nextOffset; // nothing from `at` to its end: what follows is found by offset again
    }
    return null;
  }

  /** Index of the last segment whose base offset is <= offset. */
  private segmentFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Runs a read with the segment's index loaded, keeping the file open until the read ends. */
  private async withSegment<T>(seg: Segment, fn: (index: SegmentIndex) => Promise<T>): Promise<T> {
    seg.readers++;
    seg.fh.hold();
    try {
      return await fn(seg === this.active ? seg.index! : await this.sealedIndexes.get(seg));
    } finally {
      seg.fh.release();
      seg.readers--;
      if (seg.deleted && seg.readers === 0) await seg.fh.close();
    }
  }

  /**
   * One at a time: overlapping calls wrote the checkpoint through one temp file (a rename failed, or
   * renamed a half-written file into place), and the one that finished last set the start, even if it
   * asked for less.
   */
  deleteRecordsBefore(offset: number): Promise<void> {
    return this.exclusive(() => this.trimTo(offset));
  }

  private async trimTo(offset: number): Promise<void> {
    if (offset <= this.start) return;
    if (offset > this.ackedEnd) {
      throw new BrokerError(
        "OFFSET_OUT_OF_RANGE",
        `cannot delete up to ${offset}: the log ends at ${this.ackedEnd}`,
      );
    }
    await writeStartOffset(this.opts.fs, this.opts.dir, offset);
    this.start = offset;
    const whollyBelow = this.segments.slice(0, -1).filter((s) => s.nextOffset <= offset);
    await this.deleteSegments(whollyBelow);
  }

  /** Runs `fn` after every earlier trim, retention run and cleaning, and before later ones. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.trimming.then(fn);
    this.trimming = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  enforceRetention(): Promise<number> {
    return this.exclusive(() => this.retainNow());
  }

  private async retainNow(): Promise<number> {
    const { config, clock } = this.opts;
    const expired = () => activeExpired(this.active, config.retentionMs, clock.nowMs());
    if (expired() && !this.failure) {
      // As Kafka does, an expired active segment is rolled so that it can be deleted like the rest.
      await this.writer.asWriter(async () => {
        if (expired()) await this.roll().catch((e: unknown) => this.writeFailed(e, []));
      });
    }
    const sealed = this.segments.slice(0, -1);
    const doomed = sealed.slice(0, countPastRetention(sealed, this.sizeBytes, config, clock.nowMs()));
    await this.deleteSegments(doomed);
    return doomed.length;
  }

  private async deleteSegments(doomed: Segment[]): Promise<void> {
    if (doomed.length === 0) return;
    const { fs, dir } = this.opts;
    this.segments = this.segments.filter((s) => !doomed.includes(s));
    this.sealedIndexes.forget(doomed);
    this.start = Math.max(this.start, this.segments[0]!.baseOffset);
    for (const seg of doomed) {
      seg.deleted = true;
      for (const suffix of [SEGMENT_SUFFIX, OFFSET_INDEX_SUFFIX, TIME_INDEX_SUFFIX]) {
        if (await fs.exists(seg.path(suffix))) await fs.unlink(seg.path(suffix));
      }
      if (seg.readers === 0) await seg.fh.close();
    }
    await fs.syncDir(dir);
  }

  /**
   * Rolls a non-empty active segment older than segment.ms or `maxAgeMs` (max.compaction.lag.ms), so the
   * cleaner can reach its records. Its age counts from its creation (its roll time less segment.ms); for
   * max.compaction.lag.ms from its first batch's timestamp when that is older (a producer's CreateTime in
   * the past), as Kafka ages its records.
   */
  async rollIfDue(maxAgeMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    const { clock, config } = this.opts;
    const rollAt = async () => {
      const seg = this.active;
      const born = seg.rollAtMs - config.segmentMs;
      const first = Number.isFinite(maxAgeMs) ? await oldestTimestamp(seg) : -1;
      return Math.min(seg.rollAtMs, (first >= 0 ? Math.min(born, first) : born) + maxAgeMs);
    };
    const due = async () => !this.active.isEmpty && clock.nowMs() >= (await rollAt());
    if (this.failure || this.closed || !(await due())) return false;
    let rolled = false;
    await this.writer.asWriter(async () => {
      if (!(await due())) return;
      await this.roll().catch((e: unknown) => this.writeFailed(e, []));
      rolled = true;
    });
    return rolled;
  }

  sealedSegments(): readonly Segment[] {
    return this.segments.slice(0, -1);
  }

  /**
   * Puts the cleaned copy in place of `group` (see cleaner/swap.ts). The replaced files stay open until
   * the reads already on them end. A failure after the commit point is final for this log (as a failed
   * write is): the next start finishes the swap.
   */
  async swapIn(
    group: readonly Segment[],
    copy: CleanedCopy,
    step?: (s: SwapStep) => Promise<void>,
  ): Promise<boolean> {
    const { fs, dir } = this.opts;
    if (this.closed || group.some((s) => s.deleted || !this.segments.includes(s))) {
      await fs.unlink(copy.path);
      return false;
    }
    for (const s of group) {
      s.retired = true;
      s.fh.hold();
    }
    try {
      for (const s of group) await s.fh.ensureOpen();
      await commitSwap(fs, dir, copy.path, copy.baseOffset);
      await step?.("committed");
      try {
        await finishSwap(
          fs,
          dir,
          copy.baseOffset,
          group.map((s) => s.baseOffset),
        );
        await step?.("replaced");
        this.replaceSegments(group, await this.cleanedSegment(copy));
      } catch (e) {
        this.fail(e, []);
        throw e;
      }
      return true;
    } finally {
      for (const s of group) {
        s.fh.release();
        if (s.deleted && s.readers === 0) await s.fh.close();
      }
    }
  }

  private async cleanedSegment(copy: CleanedCopy): Promise<Segment> {
    const { fs, dir, config, files } = this.opts;
    const path = join(dir, segmentName(copy.baseOffset, SEGMENT_SUFFIX));
    const fh = new SegmentFile(fs, path, acksAfterSync(config.fsync), files);
    const seg = new Segment(
      dir,
      copy.baseOffset,
      fh,
      copy.size,
      copy.nextOffset,
      copy.maxTimestamp,
      null,
      Infinity,
    );
    await seg.writeIndexFiles(fs, copy.index); // checked against the segment on load: not fsynced
    return seg;
  }

  private replaceSegments(group: readonly Segment[], seg: Segment): void {
    const at = this.segments.indexOf(group[0]!);
    this.segments.splice(at, group.length, seg);
    this.sealedIndexes.forget(group);
    for (const s of group) {
      s.deleted = true;
      this.damaged.forget(s.baseOffset);
    }
    if (group.some((s) => s.baseOffset === this.scrubAt.base))
      this.scrubAt = { base: seg.baseOffset, pos: 0, expected: seg.baseOffset };
  }

  async flush(): Promise<void> {
    await this.writer.asWriter(async () => {
      if (this.failure) throw this.failure;
      await this.datasync();
      this.dirty = false;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.syncTimer);
    this.diskFull.stop(new BrokerError("LOG_CLOSED", `log ${this.opts.dir} is closed`));
    this.opts.scrubber?.remove(this);
    await this.scrubbing;
    try {
      if (!this.failure) {
        await this.flush();
        // everything below the end is durable now: the next open can tell a loss from a torn write
        await writeCleanEnd(this.opts.fs, this.opts.dir, this.ackedEnd);
      }
    } finally {
      for (const seg of this.segments) await seg.fh.close();
    }
  }
}

/** The stored bytes without the empty batches at their front: kafkajs moves past a batch only by its
 *  records, so a fetch answered with fillers alone would ask for the same offset again and again. */
function withoutLeadingFillers(data: Buffer): Buffer {
  let at = 0;
  while (at + 61 <= data.length && isFiller(data.subarray(at))) at += 12 + data.readInt32BE(at + 8);
  return at === 0 ? data : data.subarray(at);
}

function reason(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
