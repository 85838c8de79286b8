// The stream model's metrics under kafka_exporter's names, so its Grafana dashboard and the alert rules
// written for it work against Spindle unchanged.
// Invariant: names, labels (`topic`, `partition`, `consumergroup`) and values are kafka_exporter's: every
// family is a gauge, the current offset is the partition's high watermark, and a group's lag on a partition
// is that watermark minus the group's committed offset (only partitions the group committed are shown).
// Left out: kafka_exporter's `*_sum` gauges, which `promtool check metrics` rejects (`_sum` belongs to
// histograms); `sum by (consumergroup, topic) (kafka_consumergroup_lag)` is the same number.

import type { Partition } from "../../streams/index.ts";
import type { HttpContext } from "./context.ts";
import { type Exposition, labelValue } from "./exposition.ts";

interface PartitionRow {
  readonly labels: string;
  readonly p: Partition;
}

interface GroupRow {
  readonly labels: string;
  readonly value: number;
}

export function writeKafkaMetrics(out: Exposition, ctx: HttpContext): void {
  const { topics, nodeId } = ctx.streams;
  out.single("kafka_brokers", "gauge", "Number of Brokers in the Kafka Cluster.", 1);
  const list = topics.list();
  const rows: PartitionRow[] = [];
  out.family("kafka_topic_partitions", "gauge", "Number of partitions for this Topic");
  for (const t of list) {
    const topic = labelValue(t.def.name);
    out.sample("kafka_topic_partitions", `{topic="${topic}"}`, t.partitions.length);
    for (const p of t.partitions) rows.push({ labels: `{topic="${topic}",partition="${p.index}"}`, p });
  }
  const each = (name: string, help: string, value: (p: Partition) => number) => {
    out.family(name, "gauge", help);
    for (const r of rows) out.sample(name, r.labels, value(r.p));
  };
  each(
    "kafka_topic_partition_current_offset",
    "Current Offset of a Broker at Topic/Partition",
    (p) => p.endOffset,
  );
  each(
    "kafka_topic_partition_oldest_offset",
    "Oldest Offset of a Broker at Topic/Partition",
    (p) => p.startOffset,
  );
  // one broker: it leads every partition, holds its only replica, and nothing is under-replicated
  each("kafka_topic_partition_leader", "Leader Broker ID of this Topic/Partition", () => nodeId);
  each("kafka_topic_partition_replicas", "Number of Replicas for this Topic/Partition", () => 1);
  each(
    "kafka_topic_partition_in_sync_replica",
    "Number of In-Sync Replicas for this Topic/Partition",
    () => 1,
  );
  each(
    "kafka_topic_partition_leader_is_preferred",
    "1 if Topic/Partition is using the Preferred Broker",
    () => 1,
  );
  each(
    "kafka_topic_partition_under_replicated_partition",
    "1 if Topic/Partition is under Replicated",
    () => 0,
  );
  writeGroups(out, ctx);
}

function writeGroups(out: Exposition, ctx: HttpContext): void {
  const { topics, groups } = ctx.streams;
  const members: GroupRow[] = [];
  const offsets: GroupRow[] = [];
  const lags: GroupRow[] = [];
  for (const { groupId } of groups.list()) {
    const group = labelValue(groupId);
    members.push({ labels: `{consumergroup="${group}"}`, value: groups.find(groupId)?.size ?? 0 });
    for (const c of groups.committedAll(groupId)) {
      const p = topics.partition(c.topic, c.partition);
      // its topic or partition is gone, or the commit says "no offset" (-1, which kafka_exporter skips too)
      if (p === undefined || c.offset < 0) continue;
      const topic = labelValue(c.topic);
      const labels = `{consumergroup="${group}",topic="${topic}",partition="${c.partition}"}`;
      offsets.push({ labels, value: c.offset });
      lags.push({ labels, value: p.endOffset - c.offset });
    }
  }
  const family = (name: string, help: string, rows: readonly GroupRow[]) => {
    out.family(name, "gauge", help);
    for (const r of rows) out.sample(name, r.labels, r.value);
  };
  family("kafka_consumergroup_members", "Amount of members in a consumer group", members);
  family(
    "kafka_consumergroup_current_offset",
    "Current Offset of a ConsumerGroup at Topic/Partition",
    offsets,
  );
  family("kafka_consumergroup_lag", "Current Approximate Lag of a ConsumerGroup at Topic/Partition", lags);
}
