// Ending a transaction: the decision (Prepare*) stored with the markers appended beside it, then the group
// offsets, each partition's end (its last stable offset moves) and Complete*, stored in the background.
// Invariant: nothing of a transaction's end is visible (LSO, offsets) before its decision is durable.

import type { Clock, Logger } from "../../lib/index.ts";
import type { Groups } from "../groups.ts";
import type { Topics } from "../topics.ts";
import type { MarkerType } from "./control-batch.ts";
import { appendMarkers, type MarkerWrite } from "./markers.ts";
import type { PartitionTxns } from "./partition-txns.ts";
import type { StoredAborted } from "./txn-store.ts";
import type { PendingOffset, TxnCounts, TxnRecord, TxnState } from "./txn-types.ts";

/** What ending needs of the coordinator. */
export interface TxnEndDeps {
  topics: Topics;
  groups: Groups;
  clock: Clock;
  logger: Logger;
  counts: TxnCounts;
  partitionTxns(topicId: string, partition: number): PartitionTxns;
  /** stores the record (with any ranges a failed background save carried) */
  save(t: TxnRecord, added?: StoredAborted[]): Promise<void>;
  /** keeps ranges a failed background save did not store, for the id's next save */
  carry(transactionalId: string, added: StoredAborted[]): void;
  /** work close() waits for */
  inBackground(work: Promise<void>): void;
}

export class TxnEnd {
  constructor(private readonly d: TxnEndDeps) {}

  /** Prepare (durably), write a marker into every partition, commit the offsets, then Complete. */
  async complete(t: TxnRecord, type: MarkerType): Promise<void> {
    await this.writeMarkers(t, type, await this.decide(t, type));
  }

  /** Finishes a transaction whose end was decided but not yet written (markers pending or failed). */
  async finishPrepared(t: TxnRecord): Promise<void> {
    if (t.state === "PrepareCommit") await this.writeMarkers(t, "commit");
    else if (t.state === "PrepareAbort") await this.writeMarkers(t, "abort");
  }

  /**
   * Stores Prepare* and appends the markers beside it (`markers.ts` says why that is safe); resolves once the
   * decision is durable, with the markers still being written. Nothing waits on a marker before this
   * resolves: the partitions' last stable offsets and the group's offsets move only in writeMarkers.
   */
  async decide(t: TxnRecord, type: MarkerType): Promise<MarkerWrite[]> {
    const prepare: TxnState = type === "commit" ? "PrepareCommit" : "PrepareAbort";
    if (t.state === prepare) return appendMarkers(this.d.topics, t, type, this.d.clock.nowMs());
    // set before the markers are queued: a Produce of this transaction arriving now is refused
    t.state = prepare;
    const saving = this.d.save(t);
    const markers = appendMarkers(this.d.topics, t, type, this.d.clock.nowMs());
    await saving;
    return markers;
  }

  /**
   * Writes the markers and the group offsets of a prepared transaction, then stores Complete*. Each partition's
   * open transaction ends (its LSO moves) once its marker is durable. Complete* is not waited for: the next
   * change of this id is stored after it in the same log (so it shares its group commit and cannot be durable
   * without it); if it is lost in a crash, restart finds Prepare* and writes the markers again.
   */
  async writeMarkers(
    t: TxnRecord,
    type: MarkerType,
    markers = appendMarkers(this.d.topics, t, type, this.d.clock.nowMs()),
  ): Promise<void> {
    const added: StoredAborted[] = [];
    // the group's offsets are one more "partition" of the transaction, as __consumer_offsets is in Kafka:
    // written beside the markers, not after them (but after the decision: they cannot be taken back)
    const offsets = type === "commit" ? this.commitOffsets(t.offsets) : Promise.resolve();
    await Promise.all([
      offsets,
      ...markers.map(async ({ tp, written }) => {
        const pt = this.d.partitionTxns(tp.topicId, tp.partition);
        if (written !== null) {
          const baseOffset = await written;
          if (type === "abort") {
            const range = { producerId: t.producerId, firstOffset: tp.firstOffset, lastOffset: baseOffset };
            pt.addAborted(range);
            added.push({ ...range, topicId: tp.topicId, partition: tp.partition });
          }
        }
        pt.end(t.producerId);
      }),
    ]);
    t.state = type === "commit" ? "CompleteCommit" : "CompleteAbort";
    this.d.counts[type === "commit" ? "committed" : "aborted"]++;
    t.partitions = [];
    t.groups = [];
    t.offsets = [];
    this.saveInBackground(t, added);
  }

  /** Stores a change nobody waits for; a failure carries its ranges into this id's next save. */
  private saveInBackground(t: TxnRecord, added: StoredAborted[]): void {
    const id = t.transactionalId;
    const saving = this.d.save(t, added).catch((err: unknown) => {
      this.d.carry(id, added);
      this.d.logger.warn({ err, transactionalId: id }, "storing a completed transaction failed");
    });
    this.d.inBackground(saving);
  }

  private async commitOffsets(offsets: PendingOffset[]): Promise<void> {
    const byGroup = new Map<string, PendingOffset[]>();
    for (const o of offsets) byGroup.set(o.groupId, [...(byGroup.get(o.groupId) ?? []), o]);
    for (const [groupId, list] of byGroup) await this.d.groups.commitTransactional(groupId, list);
  }
}
