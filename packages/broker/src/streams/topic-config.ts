// A topic's settings in Kafka's names (retention.ms, segment.bytes, …) and how they become a LogConfig.
// Invariant: a stored TopicConfig always passes validateTopicConfigs; unknown names are rejected, not kept.

import { BrokerError } from "../lib/index.ts";
import type { CompactionConfig, FsyncPolicy, LogConfig, TransactionView } from "../log/index.ts";

export type CleanupPolicy = "delete" | "compact" | "compact,delete";

export interface TopicConfig {
  retentionMs: number;
  retentionBytes: number;
  segmentBytes: number;
  segmentMs: number;
  cleanupPolicy: CleanupPolicy;
  maxMessageBytes: number;
  /** compacted topics: how long a tombstone stays after it was written */
  deleteRetentionMs: number;
  /** compacted topics: clean once this share of the log is dirty */
  minCleanableDirtyRatio: number;
  /** compacted topics: a record stays uncompacted at least this long */
  minCompactionLagMs: number;
  /** compacted topics: a record is compacted at most about this long after it was written, whatever the
   *  dirty ratio (NO_MAX_LAG: never forced) */
  maxCompactionLagMs: number;
}

/** Kafka's default max.compaction.lag.ms (Long.MAX_VALUE), stored as the largest exact integer. */
const NO_MAX_LAG = Number.MAX_SAFE_INTEGER;
const NO_MAX_LAG_TEXT = "9223372036854775807";

export const DEFAULT_TOPIC_CONFIG: TopicConfig = {
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  cleanupPolicy: "delete",
  maxMessageBytes: 1024 * 1024 + 12,
  deleteRetentionMs: 24 * 3600 * 1000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: NO_MAX_LAG,
};

type Key = keyof TopicConfig;

/** Kafka's config name for each field, in the order DescribeConfigs lists them. */
export const CONFIG_NAMES: Readonly<Record<string, Key>> = {
  "cleanup.policy": "cleanupPolicy",
  "retention.ms": "retentionMs",
  "retention.bytes": "retentionBytes",
  "segment.bytes": "segmentBytes",
  "segment.ms": "segmentMs",
  "max.message.bytes": "maxMessageBytes",
  "delete.retention.ms": "deleteRetentionMs",
  "min.cleanable.dirty.ratio": "minCleanableDirtyRatio",
  "min.compaction.lag.ms": "minCompactionLagMs",
  "max.compaction.lag.ms": "maxCompactionLagMs",
};

function invalid(message: string): BrokerError {
  return new BrokerError("INVALID_CONFIG", message);
}

function parseInteger(name: string, text: string, min: number): number {
  if (!/^-?\d{1,16}$/.test(text)) throw invalid(`${name}=${text}: expected an integer`);
  const n = Number(text);
  if (n < min) throw invalid(`${name}=${text}: must be at least ${min}`);
  return n;
}

function parseRatio(name: string, text: string): number {
  const n = Number(text);
  if (!/^\d*\.?\d+$/.test(text.trim()) || !(n >= 0 && n <= 1))
    throw invalid(`${name}=${text}: expected a number from 0 to 1`);
  return n;
}

function parseValue(name: string, key: Key, text: string): number | CleanupPolicy {
  switch (key) {
    case "cleanupPolicy": {
      const norm = text
        .split(",")
        .map((s) => s.trim())
        .sort()
        .join(",");
      if (norm === "delete" || norm === "compact" || norm === "compact,delete") return norm;
      throw invalid(`${name}=${text}: expected delete, compact or compact,delete`);
    }
    case "retentionMs":
    case "retentionBytes":
      return parseInteger(name, text, -1);
    case "deleteRetentionMs":
    case "minCompactionLagMs":
      return parseInteger(name, text, 0);
    case "maxCompactionLagMs":
      // up to Kafka's Long.MAX_VALUE, which means "never": anything past 2^53 is the same
      if (!/^\d{1,19}$/.test(text)) throw invalid(`${name}=${text}: expected an integer`);
      if (Number(text) < 1) throw invalid(`${name}=${text}: must be at least 1`);
      return Math.min(Number(text), NO_MAX_LAG);
    case "minCleanableDirtyRatio":
      return parseRatio(name, text);
    case "segmentBytes":
      return parseInteger(name, text, 1024);
    case "segmentMs":
      return parseInteger(name, text, 1);
    case "maxMessageBytes":
      return parseInteger(name, text, 0);
  }
}

/** Applies `changes` (name → value, null = back to default) over `base`; throws INVALID_CONFIG. */
export function applyConfigChanges(
  base: TopicConfig,
  changes: ReadonlyArray<readonly [string, string | null]>,
): TopicConfig {
  const out: TopicConfig = { ...base };
  for (const [name, value] of changes) {
    const key = CONFIG_NAMES[name];
    if (key === undefined) throw invalid(`unknown topic config ${name}`);
    const parsed = value === null ? DEFAULT_TOPIC_CONFIG[key] : parseValue(name, key, value);
    Object.assign(out, { [key]: parsed });
  }
  return out;
}

export interface ConfigEntry {
  name: string;
  value: string;
  isDefault: boolean;
}

export function describeConfig(config: TopicConfig): ConfigEntry[] {
  return Object.entries(CONFIG_NAMES).map(([name, key]) => ({
    name,
    value: key === "maxCompactionLagMs" && config[key] === NO_MAX_LAG ? NO_MAX_LAG_TEXT : String(config[key]),
    isDefault: config[key] === DEFAULT_TOPIC_CONFIG[key],
  }));
}

/** What the log cleaner needs, or null when the topic is not compacted. */
export function compactionOf(config: TopicConfig, transactions?: TransactionView): CompactionConfig | null {
  if (config.cleanupPolicy === "delete") return null;
  const { deleteRetentionMs, minCleanableDirtyRatio, minCompactionLagMs, maxCompactionLagMs } = config;
  const cfg = { deleteRetentionMs, minCleanableDirtyRatio, minCompactionLagMs, maxCompactionLagMs };
  return transactions === undefined ? cfg : { ...cfg, transactions };
}

/** Fills `target` in place: FileLog reads its config object at use time, so a change applies live. */
export function toLogConfig(config: TopicConfig, fsync: FsyncPolicy, target?: LogConfig): LogConfig {
  const out = target ?? ({ indexIntervalBytes: 4096, fsync } as LogConfig);
  out.retentionMs = config.cleanupPolicy === "compact" ? -1 : config.retentionMs;
  out.retentionBytes = config.cleanupPolicy === "compact" ? -1 : config.retentionBytes;
  out.segmentBytes = config.segmentBytes;
  out.segmentMs = config.segmentMs;
  out.fsync = fsync;
  return out;
}
