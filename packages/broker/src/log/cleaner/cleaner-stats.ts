// What the log cleaner tells /metrics: the figures Kafka's LogCleaner and LogCleanerManager MBeans give
// (the last cleaning's recopy share, key-map use and duration; the dirtiest log at the last check; logs
// that could not be cleaned), plus when the last check ran and how many cleanings were done.
// Invariant: every figure is from the last check or cleaning that finished; nothing is sampled meanwhile.

import type { CleanResult } from "./clean-log.ts";

export class CleanerStats {
  /** the cleaner was started (--log-cleaner-enable): without it there is nothing to report */
  running = false;
  /** when the last check began, ms since the epoch (the start before the first) */
  lastCheckMs = 0;
  /** the highest dirty ratio among compacted logs at the last check, in percent */
  maxDirtyPercent = 0;
  /** the last cleaning: bytes written over bytes read, in percent (Kafka's cleaner-recopy-percent) */
  recopyPercent = 0;
  /** the last cleaning: share of the key map's slots in use, in percent */
  bufferUtilizationPercent = 0;
  /** how long the last cleaning took */
  cleanTimeSecs = 0;
  /** how long past max.compaction.lag.ms the last cleaning's oldest dirty records were */
  compactionDelaySecs = 0;
  cleanings = 0;
  /** directories of the logs whose last check or cleaning failed (each is retried at the next check) */
  readonly failing = new Set<string>();

  cleaned(r: CleanResult, mapUse: number, ms: number, delayMs: number): void {
    this.compactionDelaySecs = delayMs / 1000;
    this.cleanings++;
    this.recopyPercent = Math.round((100 * r.bytesWritten) / Math.max(r.bytesRead, 1));
    this.bufferUtilizationPercent = Math.round(100 * mapUse);
    this.cleanTimeSecs = ms / 1000;
  }
}
