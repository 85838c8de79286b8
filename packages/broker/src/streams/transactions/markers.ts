// Appending a transaction's commit or abort marker to each of its partitions, started at once and waited for
// later: EndTxn starts them beside the Prepare* save, so the two syncs overlap instead of following each other.
// Invariant: appends are queued synchronously, in each partition's arrival order (so anything the producer
// sends after EndTxn lands after its marker); a marker written before its decision is durable is harmless —
// if a crash loses the decision, restart aborts the transaction and the coordinator's aborted range (which
// read_committed fetches get) covers its records whatever marker precedes the abort marker.

import type { Topics } from "../topics.ts";
import type { MarkerType } from "./control-batch.ts";
import type { TxnPartition, TxnRecord } from "./txn-types.ts";

export interface MarkerWrite {
  readonly tp: TxnPartition;
  /** the marker's offset once durable; null when the partition is gone (its topic was deleted) */
  readonly written: Promise<number> | null;
}

export function appendMarkers(topics: Topics, t: TxnRecord, type: MarkerType, nowMs: number): MarkerWrite[] {
  return t.partitions.map((tp) => {
    const p = topics.byId(tp.topicId)?.partitions[tp.partition];
    if (p === undefined) return { tp, written: null };
    const written = p.appendMarker(t.producerId, t.epoch, type, nowMs).then((r) => r.baseOffset);
    // awaited by whoever finishes the transaction; if the decision fails first, nobody may
    written.catch(() => {});
    return { tp, written };
  });
}
