// Makes a consumer group's start position durable before it joins: every partition of its topics the
// group has no committed offset for gets one at the partition's current end. Why: the subscription
// consumes with mode "committed", fallback "latest", and commits only partitions that delivered a record;
// without this, a partition still uncommitted starts at "latest" again at every rejoin, so a record
// published there while the consumer was away (a broker restart, a crash) would be skipped for good.
// Kafka's Java consumer closes the same hole by auto-committing its position after the first join.
// Invariant: only partitions without a committed offset are written, so no commit is ever moved; the end
// is read before the join, so a record published between the two is still read (at-least-once).

import type { Consumer } from "@platformatic/kafka";

type KafkaLib = typeof import("@platformatic/kafka");

export async function anchorGroupStart(
  lib: KafkaLib,
  brokers: string[],
  consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
  group: string,
  topics: string[],
): Promise<void> {
  const ends = await consumer.listOffsets({ topics });
  const committed = await consumer.listCommittedOffsets({
    topics: [...ends].map(([topic, offsets]) => ({ topic, partitions: offsets.map((_, i) => i) })),
  });
  const missing = [];
  for (const [name, offsets] of ends) {
    const have = committed.get(name) ?? [];
    const partitionOffsets = [];
    for (const [partition, offset] of offsets.entries()) {
      if ((have[partition] ?? -1n) < 0n) partitionOffsets.push({ partition, offset });
    }
    if (partitionOffsets.length > 0) missing.push({ name, partitionOffsets });
  }
  if (missing.length === 0) return;
  const admin = new lib.Admin({ clientId: `spindle-sdk-${process.pid}`, bootstrapBrokers: brokers });
  try {
    // refused when the group has live members (the broker takes a member-less commit only from an empty
    // group): those members joined first and anchored it, so there is nothing to do
    await admin.alterConsumerGroupOffsets({ groupId: group, topics: missing }).catch(() => {});
  } finally {
    await admin.close().catch(() => {});
  }
}
