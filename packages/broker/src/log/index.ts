// log/: the storage engine. Everything above appends and reads RecordBatch v2 bytes through `Log`.
// Only this folder (and meta/, through it) touches data files.
export { type CleanResult, type CompactionConfig, dirtyState } from "./cleaner/clean-log.ts";
export type { CleanerStats } from "./cleaner/cleaner-stats.ts";
export { LogCleaner, type LogCleanerOptions } from "./cleaner/log-cleaner.ts";
export type { TransactionView } from "./cleaner/transactions.ts";
export { type DamageCounts, DamageStats } from "./damage.ts";
export { type DamageWatch, FileLog, type FileLogOptions } from "./file-log.ts";
export {
  acksAfterSync,
  DEFAULT_FSYNC,
  type FsyncPolicy,
  formatFsyncPolicy,
  parseFsyncPolicy,
} from "./fsync-policy.ts";
export {
  type AppendResult,
  DEFAULT_LOG_CONFIG,
  type Log,
  type LogConfig,
  type ReadOptions,
  type ReadResult,
  type TimestampLookup,
} from "./log.ts";
export { MemoryLog } from "./memory-log.ts";
export { OpenFiles, type OpenFilesOptions } from "./open-files.ts";
export { removeLogFiles } from "./remove-log.ts";
export { type Scrubbable, Scrubber, type ScrubberOptions } from "./scrubber.ts";
export { SYNC_BUCKETS_S, SyncLatency } from "./sync-latency.ts";
