// How a consumer group is shown over HTTP: members with their decoded assignment, and per partition the
// committed offset, the end offset and the lag. Invariant: assignment bytes that do not decode as the consumer
// protocol's are shown as null, never guessed at; partitions assigned but never committed show null offsets.

import { decodeConsumerProtocolAssignment } from "@spindle/protocol";
import type { Group, MemberView, PartitionLag } from "../../streams/index.ts";

/** The newest ConsumerProtocolAssignment version the codec knows; newer ones only add fields at the end. */
const ASSIGNMENT_VERSION_MAX = 3;

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A member's assignment under the "consumer" protocol type, or null when it is not one. */
function decodeAssignment(protocolType: string | null, bytes: Buffer): TopicPartition[] | null {
  if (protocolType !== "consumer") return null;
  if (bytes.length === 0) return []; // before the first SyncGroup
  try {
    const version = Math.min(bytes.readInt16BE(0), ASSIGNMENT_VERSION_MAX);
    if (version < 0) return null;
    const a = decodeConsumerProtocolAssignment(version, bytes.subarray(2));
    return a.assignedPartitions.flatMap((t) =>
      t.partitions.map((partition) => ({ topic: t.topic, partition })),
    );
  } catch {
    return null;
  }
}

export function showMember(g: Group, m: MemberView) {
  return {
    member_id: m.memberId,
    client_id: m.clientId,
    client_host: m.clientHost,
    assignment: decodeAssignment(g.protocolType, m.assignment),
  };
}

export interface OffsetRow {
  topic: string;
  partition: number;
  committed_offset: number | null;
  end_offset: number | null;
  lag: number | null;
  metadata: string | null;
}

/**
 * Committed partitions with their lag, and assigned partitions that have no commit yet (offsets null, as
 * kafka-consumer-groups shows them), sorted by topic and partition.
 */
export function offsetRows(
  committed: readonly PartitionLag[],
  assigned: readonly TopicPartition[],
  endOffset: (tp: TopicPartition) => number | null,
): OffsetRow[] {
  const rows = new Map<string, OffsetRow>();
  for (const c of committed) {
    rows.set(`${c.partition}:${c.topic}`, {
      topic: c.topic,
      partition: c.partition,
      committed_offset: c.committedOffset,
      end_offset: c.endOffset,
      lag: c.lag,
      metadata: c.metadata,
    });
  }
  for (const a of assigned) {
    const key = `${a.partition}:${a.topic}`;
    if (rows.has(key)) continue;
    const end = endOffset(a);
    rows.set(key, { ...a, committed_offset: null, end_offset: end, lag: null, metadata: null });
  }
  return [...rows.values()].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  );
}
