// How far a consumer group is behind: per committed partition, the end offset (high watermark) minus the
// committed offset. Invariant: lag is never negative, and is null for a partition that no longer exists.

import type { Groups } from "./groups.ts";
import type { Topics } from "./topics.ts";

export interface PartitionLag {
  topic: string;
  partition: number;
  committedOffset: number;
  metadata: string | null;
  /** null when the topic or partition is gone */
  endOffset: number | null;
  lag: number | null;
}

/** Every partition the group has committed an offset for, sorted by topic and partition. */
export function groupLag(topics: Topics, groups: Groups, groupId: string): PartitionLag[] {
  return groups
    .committedAll(groupId)
    .map((c) => {
      const end = topics.partition(c.topic, c.partition)?.endOffset ?? null;
      return {
        topic: c.topic,
        partition: c.partition,
        committedOffset: c.offset,
        metadata: c.metadata,
        endOffset: end,
        lag: end === null ? null : Math.max(0, end - c.offset),
      };
    })
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

/** The sum of a group's lag over the partitions that still exist. */
export function totalLag(rows: readonly PartitionLag[]): number {
  let sum = 0;
  for (const r of rows) sum += r.lag ?? 0;
  return sum;
}
