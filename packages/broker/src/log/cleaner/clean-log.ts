// One cleaning of one log, as Kafka's Cleaner does it: map the latest offset of each key in the dirty
// section (as far as the map's budget reaches), then rewrite every sealed segment below that point keeping
// only the latest record per key. Invariant: the active segment and segments younger than the compaction
// lag are never touched, and each group of segments is replaced only by a complete, synced copy.

import { readInt64 } from "@spindle/protocol";
import { type Fs, LIMITS } from "../../lib/index.ts";
import type { LogDamage } from "../damage.ts";
import type { Segment } from "../segment.ts";
import { batchRecords, isControlBatch, isFiller } from "./batch-filter.ts";
import { readCleanerCheckpoint, writeCleanerCheckpoint } from "./checkpoint.ts";
import { type CleanedCopy, type CleanStats, writeCleanedCopy } from "./clean-segments.ts";
import { oldestTimestamp } from "./first-timestamp.ts";
import { keyHash, type OffsetMap } from "./offset-map.ts";
import { eachBatch } from "./read-batches.ts";
import type { SwapStep } from "./swap.ts";
import { readTombstonesDue, writeTombstonesDue } from "./tombstone-horizon.ts";
import { AbortedIndex, MarkerTracker, type TransactionView } from "./transactions.ts";

/** A compacted topic's settings, in Kafka's terms. */
export interface CompactionConfig {
  /** clean once dirty bytes / all sealed bytes reach this (min.cleanable.dirty.ratio) */
  minCleanableDirtyRatio: number;
  /** a record stays uncompacted at least this long (min.compaction.lag.ms) */
  minCompactionLagMs: number;
  /** a log whose dirty records are older than this is cleaned whatever its dirty ratio
   *  (max.compaction.lag.ms; absent: never) */
  maxCompactionLagMs?: number;
  /** a tombstone stays at least this long after it was written (delete.retention.ms) */
  deleteRetentionMs: number;
  /** the partition's transactions; none: every batch is taken as decided */
  transactions?: TransactionView;
}

/** What a FileLog lets its cleaner see and do. */
export interface CleanerHost {
  readonly dir: string;
  readonly fs: Fs;
  readonly damageLog: LogDamage;
  readonly indexIntervalBytes: number;
  readonly segmentBytes: number;
  readonly startOffset: number;
  readonly endOffset: number;
  /** the sealed segments, oldest first (the active one is never cleaned) */
  sealedSegments(): readonly Segment[];
  /** runs `fn` with no retention, trim or other cleaning changing the segments meanwhile */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** puts `copy` in place of `group`; false when the group changed meanwhile (the copy is removed) */
  swapIn(
    group: readonly Segment[],
    copy: CleanedCopy,
    step?: (s: SwapStep) => Promise<void>,
  ): Promise<boolean>;
}

export interface DirtyState {
  firstDirty: number;
  /** the first offset the cleaner may not touch: the active segment or a segment within the lag */
  cleanableEnd: number;
  cleanBytes: number;
  dirtyBytes: number;
  ratio: number;
  /** when the newest tombstone or marker the last cleaning kept passes its horizon (Infinity: none) */
  tombstonesDueMs: number;
  /** the earliest first-batch timestamp of the cleanable dirty segments (Infinity: none, or no max lag
   *  that could be due: max.compaction.lag.ms unset or longer than the clock's time since 1970) */
  oldestDirtyMs: number;
}

/** How dirty the log is, counting only sealed segments older than the compaction lag. */
export async function dirtyState(
  host: CleanerHost,
  cfg: CompactionConfig,
  nowMs: number,
): Promise<DirtyState> {
  const checkpoint = (await readCleanerCheckpoint(host.fs, host.dir)) ?? 0;
  const firstDirty = Math.max(checkpoint, host.startOffset);
  let cleanBytes = 0;
  let dirtyBytes = 0;
  let cleanableEnd = firstDirty;
  let oldestDirtyMs = Number.POSITIVE_INFINITY;
  const stable = cfg.transactions?.lastStableOffset(host.endOffset) ?? host.endOffset;
  const ages = (cfg.maxCompactionLagMs ?? Number.POSITIVE_INFINITY) <= nowMs; // timestamps are >= 0
  for (const seg of host.sealedSegments()) {
    if (seg.nextOffset <= firstDirty) {
      cleanBytes += seg.size;
      continue;
    }
    // as Kafka: with no lag, timestamps (which producers set, possibly ahead of the clock) are not asked
    if (cfg.minCompactionLagMs > 0 && seg.maxTimestamp > nowMs - cfg.minCompactionLagMs) break;
    if (seg.nextOffset > stable) break; // an undecided transaction may have batches here
    dirtyBytes += seg.size;
    cleanableEnd = seg.nextOffset;
    // aged by its first batch, as Kafka (by its newest, a forced cleaning came up to its time span late);
    // read only when a max lag can be due: the default one never is, and the read opens the file
    if (!ages) continue;
    const oldest = await oldestTimestamp(seg);
    if (oldest >= 0) oldestDirtyMs = Math.min(oldestDirtyMs, oldest);
  }
  const total = cleanBytes + dirtyBytes;
  const ratio = total === 0 ? 0 : dirtyBytes / total;
  const tombstonesDueMs = await readTombstonesDue(host.fs, host.dir);
  return { firstDirty, cleanableEnd, cleanBytes, dirtyBytes, ratio, tombstonesDueMs, oldestDirtyMs };
}

export interface CleanResult extends CleanStats {
  /** where the next cleaning starts (the map's end) */
  cleanedTo: number;
  groups: number;
}

export interface CleanOptions {
  nowMs: number;
  /** clean even below the dirty ratio (tests, an operator's request) */
  force?: boolean;
  /** called between the steps of each swap: tests crash there */
  step?: (s: SwapStep) => Promise<void>;
}

/**
 * Dirty enough (or forced), dirt older than max.compaction.lag.ms, or a kept tombstone's horizon has passed
 * (Kafka's KIP-354 and KIP-534 do the same).
 */
export function needsCleaning(
  state: DirtyState,
  cfg: CompactionConfig,
  opts: { nowMs: number; force?: boolean },
): boolean {
  if (state.dirtyBytes > 0 && (opts.force || state.ratio >= cfg.minCleanableDirtyRatio)) return true;
  if (state.dirtyBytes > 0 && compactionDelayMs(state, cfg, opts.nowMs) >= 0) return true;
  return opts.nowMs >= state.tombstonesDueMs;
}

/** How long past max.compaction.lag.ms the oldest dirty records are (negative: not yet; -Infinity: none). */
export function compactionDelayMs(state: DirtyState, cfg: CompactionConfig, nowMs: number): number {
  return nowMs - (cfg.maxCompactionLagMs ?? Number.POSITIVE_INFINITY) - state.oldestDirtyMs;
}

/** Cleans the log once if it is dirty enough; null when there was nothing to do. */
export function cleanLog(
  host: CleanerHost,
  cfg: CompactionConfig,
  map: OffsetMap,
  opts: CleanOptions,
): Promise<CleanResult | null> {
  return host.exclusive(async () => {
    const state = await dirtyState(host, cfg, opts.nowMs);
    if (!needsCleaning(state, cfg, opts)) return null;
    map.clear();
    const aborted = new AbortedIndex(cfg.transactions, host.startOffset, state.cleanableEnd);
    const mapEnd = await buildMap(host, map, state.firstDirty, state.cleanableEnd, aborted);
    const stats: CleanStats = { recordsRead: 0, recordsKept: 0, bytesRead: 0, bytesWritten: 0 };
    const rule = {
      map,
      mapEnd,
      tombstoneHorizonMs: opts.nowMs - cfg.deleteRetentionMs,
      keptTombstoneMaxMs: -1,
      aborted,
      markers: new MarkerTracker(),
    };
    const ctx = {
      fs: host.fs,
      dir: host.dir,
      damage: host.damageLog,
      indexIntervalBytes: host.indexIntervalBytes,
    };
    const groups = groupSegments(
      host.sealedSegments().filter((s) => s.baseOffset < mapEnd),
      host.segmentBytes,
    );
    for (const group of groups) {
      const copy = await writeCleanedCopy(ctx, group, rule, stats);
      await opts.step?.("copied");
      await host.swapIn(group, copy, opts.step);
    }
    const due = rule.keptTombstoneMaxMs < 0 ? Infinity : rule.keptTombstoneMaxMs + cfg.deleteRetentionMs;
    await writeTombstonesDue(host.fs, host.dir, due);
    await writeCleanerCheckpoint(host.fs, host.dir, mapEnd);
    return { ...stats, cleanedTo: mapEnd, groups: groups.length };
  });
}

/**
 * Puts the latest offset of each key in [from, to) into the map, up to its budget. Returns the offset of
 * the first record that did not fit (or `to`): records from there on are left for the next pass.
 */
async function buildMap(
  host: CleanerHost,
  map: OffsetMap,
  from: number,
  to: number,
  aborted: AbortedIndex,
): Promise<number> {
  let mapEnd = to;
  const sealed = host.sealedSegments();
  for (const [i, seg] of sealed.entries()) {
    if (seg.nextOffset <= from) continue;
    if (seg.baseOffset >= to || mapEnd < to) break;
    await eachBatch(host.damageLog, seg, sealed[i + 1]?.baseOffset ?? seg.nextOffset, async (batch) => {
      const base = readInt64(batch, 0);
      if (base >= to) return false;
      if (isControlBatch(batch) || isFiller(batch) || base + batch.readInt32BE(23) < from) return true;
      if (aborted.abortedData(batch)) return true; // an aborted record must never hide a committed one
      for (const r of await batchRecords(batch, LIMITS.decompressedBatchBytesMax)) {
        if (r.offset < from || r.key === null) continue;
        if (r.offset >= to || !map.put(keyHash(r.key), r.offset)) {
          mapEnd = Math.min(r.offset, to);
          return false;
        }
      }
      return true;
    });
  }
  return mapEnd;
}

/** Consecutive segments whose total size fits one segment: each group becomes one cleaned segment. */
export function groupSegments(segments: readonly Segment[], segmentBytes: number): Segment[][] {
  const groups: Segment[][] = [];
  let group: Segment[] = [];
  let bytes = 0;
  for (const seg of segments) {
    const prev = group[group.length - 1];
    const fits =
      prev !== undefined &&
      prev.nextOffset === seg.baseOffset &&
      bytes + seg.size <= segmentBytes &&
      group.length < GROUP_SEGMENTS_MAX &&
      seg.nextOffset - group[0]!.baseOffset < 2 ** 31;
    if (!fits && group.length > 0) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(seg);
    bytes += seg.size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** A swap holds every replaced segment's file open (readers may be on it): so few at a time. */
const GROUP_SEGMENTS_MAX = 16;
