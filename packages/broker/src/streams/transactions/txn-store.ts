// The transaction coordinator's durable state: one record per transactional id and one per aborted range,
// in a MetaStore of its own at <data-dir>/transactions (Kafka keeps the same in __transaction_state and in
// each segment's .txnindex). Invariant: a change resolves only once durable; values are stored as copies.

import { join } from "node:path";
import type { Clock, Fs, Logger } from "../../lib/index.ts";
import type { DamageWatch, FsyncPolicy } from "../../log/index.ts";
import { type MetaChange, MetaStore } from "../../meta/index.ts";
import type { AbortedRange, TxnRecord } from "./txn-types.ts";

const TXN = "txn";
const ABORTED = "aborted";

export interface StoredAborted extends AbortedRange {
  topicId: string;
  partition: number;
}

/** two producers can share a first offset (both joined before anything was written): the id keeps both */
const abortedKey = (a: StoredAborted) => `${a.topicId}:${a.partition}:${a.firstOffset}:${a.producerId}`;

export interface TxnStoreOptions {
  fs: Fs;
  dir: string;
  clock: Clock;
  logger: Logger;
  fsync: FsyncPolicy;
  watch?: DamageWatch;
}

export class TxnStore {
  private constructor(private readonly meta: MetaStore) {}

  static async open(opts: TxnStoreOptions): Promise<TxnStore> {
    const meta = await MetaStore.open({
      fs: opts.fs,
      dir: opts.dir,
      clock: opts.clock,
      logger: opts.logger,
      fsync: opts.fsync,
      snapshotEvery: 10_000,
      ...(opts.watch ? { watch: opts.watch } : {}),
    });
    return new TxnStore(meta);
  }

  records(): TxnRecord[] {
    return this.meta.list(TXN).map(([, v]) => structuredClone(v as TxnRecord));
  }

  aborted(): StoredAborted[] {
    return this.meta.list(ABORTED).map(([, v]) => v as StoredAborted);
  }

  /** Saves a transaction's record with the ranges its abort added, atomically. */
  save(t: TxnRecord, added: StoredAborted[] = []): Promise<void> {
    const changes: MetaChange[] = [{ kind: TXN, key: t.transactionalId, value: structuredClone(t) }];
    for (const a of added) changes.push({ kind: ABORTED, key: abortedKey(a), value: a });
    return this.meta.apply(changes);
  }

  /** Forgets ranges whose records are gone (a deleted topic, retention). */
  forgetAborted(removed: StoredAborted[]): Promise<void> {
    return this.meta.apply(removed.map((a) => ({ kind: ABORTED, key: abortedKey(a), value: null })));
  }

  /** Forgets a transactional id (expired); its aborted ranges stay, as they describe the logs. */
  remove(transactionalId: string): Promise<void> {
    return this.meta.delete(TXN, transactionalId);
  }

  close(): Promise<void> {
    return this.meta.close();
  }
}

export function transactionsDir(dataDir: string): string {
  return join(dataDir, "transactions");
}
