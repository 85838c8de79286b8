// Forgets the aborted ranges of logs that no longer hold their records: every range of a deleted topic, and
// ranges wholly below a partition's log start (retention, DeleteRecords). Kafka drops a segment's .txnindex
// with the segment; here the coordinator's ranges are swept on its periodic check.
// Invariant: a range is forgotten only when no offset it covers can still be fetched.

import type { Topics } from "../topics.ts";
import type { PartitionTxns } from "./partition-txns.ts";
import type { StoredAborted } from "./txn-store.ts";

/**
 * Removes the stale ranges from `parts` (and the entries of deleted topics with nothing open) and returns
 * them, for the store to forget.
 */
export function pruneAborted(parts: Map<string, PartitionTxns>, topics: Topics): StoredAborted[] {
  const removed: StoredAborted[] = [];
  for (const [key, pt] of parts) {
    const p = topics.byId(pt.topicId)?.partitions[pt.partition];
    // topic ids are never reused: a topic created again under the same name is a new id
    const start = p === undefined ? Number.POSITIVE_INFINITY : p.startOffset;
    for (const r of pt.pruneBelow(start))
      removed.push({ ...r, topicId: pt.topicId, partition: pt.partition });
    if (p === undefined && pt.openCount === 0) parts.delete(key);
  }
  return removed;
}
