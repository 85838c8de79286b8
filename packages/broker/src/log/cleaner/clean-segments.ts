// Writing the cleaned copy of a group of sealed segments: the records the key map says are the latest,
// empty batches for the offsets removed, an index built on the way. Invariant: the copy covers exactly the
// group's offsets, densely, and is fdatasynced before anyone may swap it in; the originals are not touched.

import { join } from "node:path";
import { readInt64 } from "@spindle/protocol";
import { type FileHandle, type Fs, LIMITS } from "../../lib/index.ts";
import type { LogDamage } from "../damage.ts";
import { SEGMENT_SUFFIX, type Segment, segmentName } from "../segment.ts";
import { SegmentIndex } from "../segment-index.ts";
import {
  batchRecords,
  type CleanerRecord,
  fillerBatch,
  filterBatch,
  isControlBatch,
  isFiller,
} from "./batch-filter.ts";
import { keyHash, type OffsetMap } from "./offset-map.ts";
import { eachBatch } from "./read-batches.ts";
import type { AbortedIndex, MarkerTracker } from "./transactions.ts";

export const CLEANED_SUFFIX = ".cleaned";

/** What the cleaner keeps: see keepRecord. */
export interface CleanRule {
  map: OffsetMap;
  /** records at or past it were not put in the map (a later pass sees them): kept */
  mapEnd: number;
  /** a tombstone whose batch is older than this is removed (now − delete.retention.ms) */
  tombstoneHorizonMs: number;
  /** set by the cleaning: the newest batch timestamp among the tombstones (and markers) it kept, -1 when none */
  keptTombstoneMaxMs: number;
  /** the aborted transactions of the range cleaned */
  aborted: AbortedIndex;
  /** which transactions still have data in the copy, in log order across the cleaning's groups */
  markers: MarkerTracker;
}

export interface CleanStats {
  recordsRead: number;
  recordsKept: number;
  bytesRead: number;
  bytesWritten: number;
}

export interface CleanedCopy {
  path: string;
  baseOffset: number;
  nextOffset: number;
  size: number;
  maxTimestamp: number;
  index: SegmentIndex;
}

export interface CleanContext {
  fs: Fs;
  dir: string;
  damage: LogDamage;
  indexIntervalBytes: number;
}

/** Kafka's rule: the latest record of each key stays; keyless records go; tombstones go after their horizon. */
export function keepRecord(rule: CleanRule, batchMaxTimestamp: number, r: CleanerRecord): boolean {
  if (r.offset >= rule.mapEnd) return true;
  if (r.key === null) return false;
  if (rule.map.get(keyHash(r.key)) > r.offset) return false;
  if (!r.tombstone) return true;
  if (batchMaxTimestamp < rule.tombstoneHorizonMs) return false;
  rule.keptTombstoneMaxMs = Math.max(rule.keptTombstoneMaxMs, batchMaxTimestamp);
  return true;
}

class CopyWriter {
  pos = 0;
  next: number;
  maxTimestamp = -1;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly fh: FileHandle,
    readonly index: SegmentIndex,
    baseOffset: number,
  ) {
    this.next = baseOffset;
  }

  /** Appends `batch` (whose offsets start at `base`), after a filler for any offsets removed before it. */
  async add(batch: Buffer, base: number, last: number, maxTimestamp: number): Promise<void> {
    if (base > this.next) await this.push(fillerBatch(this.next, base - 1), this.next, -1);
    await this.push(batch, base, maxTimestamp);
    this.next = last + 1;
  }

  async finish(end: number): Promise<void> {
    if (end > this.next) await this.push(fillerBatch(this.next, end - 1), this.next, -1);
    this.next = end;
    await this.flush();
  }

  private async push(batch: Buffer, base: number, maxTimestamp: number): Promise<void> {
    this.index.onBatch(base, this.pos, batch.length, maxTimestamp);
    this.pending.push(batch);
    this.pendingBytes += batch.length;
    this.pos += batch.length;
    this.maxTimestamp = Math.max(this.maxTimestamp, maxTimestamp);
    if (this.pendingBytes >= 1 << 20) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    await this.fh.writev(this.pending, this.pos - this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/**
 * Writes `<first base>.log.cleaned` holding the kept records of `group` (consecutive sealed segments) and
 * fdatasyncs it. The caller swaps it in (swap.ts) or removes it.
 */
export async function writeCleanedCopy(
  ctx: CleanContext,
  group: readonly Segment[],
  rule: CleanRule,
  stats: CleanStats,
): Promise<CleanedCopy> {
  const baseOffset = group[0]!.baseOffset;
  const path = join(ctx.dir, segmentName(baseOffset, SEGMENT_SUFFIX + CLEANED_SUFFIX));
  const fh = await ctx.fs.open(path, "create");
  try {
    await fh.truncate(0);
    const out = new CopyWriter(fh, new SegmentIndex(baseOffset, ctx.indexIntervalBytes), baseOffset);
    for (const [i, seg] of group.entries()) {
      const end = group[i + 1]?.baseOffset ?? seg.nextOffset;
      await eachBatch(ctx.damage, seg, end, async (batch) => {
        await copyBatch(batch, rule, out, stats);
        return true;
      });
    }
    await out.finish(group[group.length - 1]!.nextOffset);
    await fh.datasync();
    stats.bytesWritten += out.pos;
    const { next, pos, maxTimestamp, index } = out;
    return { path, baseOffset, nextOffset: next, size: pos, maxTimestamp, index };
  } finally {
    await fh.close();
  }
}

async function copyBatch(batch: Buffer, rule: CleanRule, out: CopyWriter, stats: CleanStats): Promise<void> {
  const base = readInt64(batch, 0);
  const last = base + batch.readInt32BE(23);
  const maxTimestamp = readInt64(batch, 35);
  stats.bytesRead += batch.length;
  // Kept whole: batches the map has not seen yet (a later pass cleans them) and fillers.
  if (base >= rule.mapEnd || isFiller(batch)) {
    await out.add(batch, base, last, maxTimestamp);
    return;
  }
  if (isControlBatch(batch)) {
    if (rule.markers.markerRemovable(batch, rule.tombstoneHorizonMs)) return;
    rule.keptTombstoneMaxMs = Math.max(rule.keptTombstoneMaxMs, maxTimestamp);
    await out.add(batch, base, last, maxTimestamp);
    return;
  }
  if (rule.aborted.abortedData(batch)) {
    rule.markers.data(batch, false);
    return;
  }
  const records = await batchRecords(batch, LIMITS.decompressedBatchBytesMax);
  stats.recordsRead += records.length;
  const kept = await filterBatch(batch, records, (r) => keepRecord(rule, maxTimestamp, r));
  rule.markers.data(batch, kept !== null);
  if (kept === null) return;
  stats.recordsKept += kept === batch ? records.length : kept.readInt32BE(57);
  await out.add(kept, base, last, readInt64(kept, 35));
}
