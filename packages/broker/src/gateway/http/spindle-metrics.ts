// Spindle's own metrics (prefix `spindle_`): what neither RabbitMQ's nor kafka_exporter's names cover — how
// long syncs to disk take, the bytes each log holds, damage found on disk, memory held for clients.
// Invariant: counters only grow (damage is summed over every log ever opened, not the ones open now); a
// per-queue fault counter appears once it is non-zero and goes with its queue.

import { MEMORY_KINDS } from "../../lib/index.ts";
import { SYNC_BUCKETS_S } from "../../log/index.ts";
import { VHOST } from "../../queues/index.ts";
import type { HttpContext } from "./context.ts";
import { type Exposition, labelSet, labelValue } from "./exposition.ts";

export function writeSpindleMetrics(out: Exposition, ctx: HttpContext): void {
  const h = ctx.syncLatency;
  out.histogram(
    "spindle_log_fsync_duration_seconds",
    "Time a log takes to make an append durable: an O_DSYNC write (fsync group, always) or an fdatasync",
    SYNC_BUCKETS_S,
    h.buckets,
    h.sumSeconds,
  );
  writeDamage(out, ctx);
  writeLogBytes(out, ctx);
  writeQueueFaults(out, ctx);
  out.family(
    "spindle_memory_bytes",
    "gauge",
    "Memory the broker holds for clients, by kind (the memory alarm's rule)",
  );
  const byKind = ctx.memory.byKind();
  for (const kind of MEMORY_KINDS) out.sample("spindle_memory_bytes", labelSet({ kind }), byKind[kind]);
  const t = ctx.streams.traffic;
  out.single(
    "spindle_stream_produced_bytes_total",
    "counter",
    "Record-batch bytes appended by Kafka Produce",
    t.producedBytes,
  );
  out.single(
    "spindle_stream_produced_batches_total",
    "counter",
    "Record batches appended by Kafka Produce",
    t.producedBatches,
  );
  out.single(
    "spindle_stream_fetched_bytes_total",
    "counter",
    "Record-batch bytes answered to Kafka Fetch",
    t.fetchedBytes,
  );
}

function writeDamage(out: Exposition, ctx: HttpContext): void {
  const d = ctx.damage;
  out.single(
    "spindle_log_corrupt_batches_total",
    "counter",
    "Damaged stretches found in log segments (a failed length or checksum check), each reported once",
    d.corruptBatches,
  );
  out.single("spindle_log_corrupt_bytes_total", "counter", "Bytes in the damaged stretches", d.corruptBytes);
  out.single(
    "spindle_log_lost_offsets_total",
    "counter",
    "Offsets lost to damage: in damaged stretches, missing segment files or a cut tail",
    d.lostOffsets,
  );
  out.single(
    "spindle_log_missing_segments_total",
    "counter",
    "Segment files found missing between others",
    d.missingSegments,
  );
  out.single(
    "spindle_log_verified_bytes_total",
    "counter",
    "Bytes of sealed segments checked by the background verifier",
    d.verifiedBytes,
  );
}

function writeLogBytes(out: Exposition, ctx: HttpContext): void {
  const vhost = labelValue(VHOST);
  out.family(
    "spindle_queue_log_bytes",
    "gauge",
    "Bytes of a queue's log on disk, settled segments not yet trimmed included",
  );
  for (const q of ctx.vhost.queues.values())
    out.sample("spindle_queue_log_bytes", `{vhost="${vhost}",queue="${labelValue(q.name)}"}`, q.logBytes);
  out.family("spindle_topic_partition_log_bytes", "gauge", "Bytes of a stream partition's log on disk");
  for (const t of ctx.streams.topics.list()) {
    const topic = labelValue(t.def.name);
    for (const p of t.partitions)
      out.sample(
        "spindle_topic_partition_log_bytes",
        `{topic="${topic}",partition="${p.index}"}`,
        p.log.sizeBytes,
      );
  }
}

function writeQueueFaults(out: Exposition, ctx: HttpContext): void {
  const faulty = [...ctx.vhost.queues.values()].filter(
    (q) => q.faults.lostMessages + q.faults.readErrors + q.faults.trimErrors > 0,
  );
  const vhost = labelValue(VHOST);
  const each = (name: string, help: string, key: "lostMessages" | "readErrors" | "trimErrors") => {
    out.family(name, "counter", help);
    for (const q of faulty)
      out.sample(name, `{vhost="${vhost}",queue="${labelValue(q.name)}"}`, q.faults[key]);
  };
  each(
    "spindle_queue_lost_messages_total",
    "Messages a queue skipped because its log found them damaged",
    "lostMessages",
  );
  each(
    "spindle_queue_read_errors_total",
    "Reads from a queue's log that failed (retried at the next delivery)",
    "readErrors",
  );
  each(
    "spindle_queue_trim_errors_total",
    "Trims of a queue's settled segments that failed (retried later)",
    "trimErrors",
  );
}
