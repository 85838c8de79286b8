// The log cleaner's metrics under the names the Prometheus JMX exporter gives Kafka's LogCleaner and
// LogCleanerManager MBeans (`kafka_log_logcleaner_*`, `kafka_log_logcleanermanager_*`), so dashboards and
// alerts written for a Kafka broker's compaction work here; shown only while the cleaner runs (as Kafka
// registers them only with log.cleaner.enable).
// Left out: time-since-last-run-ms and uncleanable-partitions-count, which `promtool check metrics` rejects
// (for `_ms` and for `_count` on a gauge); `spindle_log_cleaner_last_check_timestamp_seconds` (time() minus
// it) and `spindle_log_cleaner_failing_partitions` say the same.

import type { HttpContext } from "./context.ts";
import type { Exposition } from "./exposition.ts";

export function writeCleanerMetrics(out: Exposition, ctx: HttpContext): void {
  const s = ctx.cleaner;
  if (!s.running) return;
  const gauge = (name: string, help: string, value: number) => out.single(name, "gauge", help, value);
  gauge(
    "kafka_log_logcleaner_cleaner_recopy_percent",
    "Bytes the last cleaning wrote, as a percentage of the bytes it read",
    s.recopyPercent,
  );
  gauge(
    "kafka_log_logcleaner_max_buffer_utilization_percent",
    "Share of the key map (--log-cleaner-dedupe-buffer-size) the last cleaning used, in percent",
    s.bufferUtilizationPercent,
  );
  gauge("kafka_log_logcleaner_max_clean_time_secs", "How long the last cleaning took", s.cleanTimeSecs);
  gauge(
    "kafka_log_logcleaner_max_compaction_delay_secs",
    "How long past max.compaction.lag.ms the last cleaning's oldest dirty records were",
    s.compactionDelaySecs,
  );
  // failures are per log and retried at the next check: there is no cleaner thread to die
  gauge("kafka_log_logcleaner_deadthreadcount", "Log cleaner threads that died (always 0)", 0);
  gauge(
    "kafka_log_logcleanermanager_max_dirty_percent",
    "The highest dirty ratio among compacted partitions at the last check, in percent",
    s.maxDirtyPercent,
  );
  gauge(
    "spindle_log_cleaner_failing_partitions",
    "Compacted partitions whose last check or cleaning failed (retried at every check)",
    s.failing.size,
  );
  out.single(
    "spindle_log_cleaner_last_check_timestamp_seconds",
    "gauge",
    "When the log cleaner last checked the compacted partitions (seconds since the epoch)",
    s.lastCheckMs / 1000,
  );
  out.single("spindle_log_cleaner_cleanings_total", "counter", "Log cleanings done", s.cleanings);
}
