// The contract every log implementation keeps (file-backed and in-memory); see log-contract.ts.
// Offsets are dense: each appended batch gets the offsets right after the previous batch's.

import type { RecordInput } from "@spindle/protocol";
import type { DamageCounts } from "./damage.ts";
import type { FsyncPolicy } from "./fsync-policy.ts";

export interface LogConfig {
  /** roll the active segment once it would exceed this size */
  segmentBytes: number;
  /** roll the active segment once it is this old */
  segmentMs: number;
  /** keep at most this many bytes (whole sealed segments are deleted); -1 = no limit */
  retentionBytes: number;
  /** delete sealed segments whose newest record is older than this; -1 = no limit */
  retentionMs: number;
  /** bytes between sparse index entries */
  indexIntervalBytes: number;
  fsync: FsyncPolicy;
}

export const DEFAULT_LOG_CONFIG: LogConfig = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  retentionMs: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  fsync: { mode: "group" },
};

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
}

export interface ReadResult {
  /**
   * whole stored batches, concatenated; may start before the requested offset (as Kafka's Fetch does), or
   * after it when the offsets between were lost to damage on disk (the log reports that damage itself)
   */
  data: Buffer;
  /** the offset after the last batch in `data`; when `data` is empty, the requested offset, or the offset
   *  after damage that nothing readable follows yet */
  nextOffset: number;
  /** with `recycle`: gives the buffer behind `data` back for reuse; once called, nothing may use `data` */
  release?: (() => void) | undefined;
}

export interface ReadOptions {
  /** the caller will call the result's `release` once nothing uses its data (a socket write has ended):
   *  the read may fill a recycled buffer instead of a new one */
  recycle?: boolean;
}

export interface TimestampLookup {
  offset: number;
  timestamp: number;
}

export interface Log {
  /** first offset still readable */
  readonly startOffset: number;
  /** offset after the last acknowledged batch: reads see [startOffset, endOffset) */
  readonly endOffset: number;
  /** bytes of all segments */
  readonly sizeBytes: number;
  readonly segmentCount: number;
  /** the newest record timestamp in the readable segments, -1 when none (ListOffsets' max timestamp) */
  readonly maxTimestamp: number;
  /** damage found on disk so far (always zero for a log in memory) */
  readonly damage: Readonly<DamageCounts>;
  /**
   * Appends one RecordBatch v2 (validated, then given its offsets in place: the caller hands over the
   * buffer). Resolves when the batch is acknowledged under the fsync policy.
   */
  append(batch: Buffer): Promise<AppendResult>;
  /** Encodes `records` as one batch and appends it. */
  appendRecords(records: readonly RecordInput[], timestampMs?: number): Promise<AppendResult>;
  /** Whole batches from the one holding `offset`, up to `maxBytes` (at least one batch). */
  read(offset: number, maxBytes: number, opts?: ReadOptions): Promise<ReadResult>;
  /** The first record with timestamp >= `timestampMs`, or null when every record is older. */
  offsetForTimestamp(timestampMs: number): Promise<TimestampLookup | null>;
  /** Makes offsets below `offset` unreadable and deletes the segments wholly below it. */
  deleteRecordsBefore(offset: number): Promise<void>;
  /** Deletes sealed segments beyond the size and age limits; returns how many were deleted. */
  enforceRetention(): Promise<number>;
  /** Resolves once appends are accepted (at once unless a full disk made the log refuse them: then when
   *  space is back); rejects if the log failed for good or closed. */
  writable(): Promise<void>;
  /** Resolves once everything appended so far is on disk, whatever the fsync policy. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
