// What the transaction coordinator keeps per transactional id, and the outcomes it answers with.
// Invariant: outcomes are named after Kafka's error codes; the gateway maps them one to one.

/** Kafka's TransactionState names, as DescribeTransactions and ListTransactions report them. */
export type TxnState =
  | "Empty"
  | "Ongoing"
  | "PrepareCommit"
  | "PrepareAbort"
  | "CompleteCommit"
  | "CompleteAbort";

export const TXN_STATES: readonly TxnState[] = [
  "Empty",
  "Ongoing",
  "PrepareCommit",
  "PrepareAbort",
  "CompleteCommit",
  "CompleteAbort",
];

export type TxnError =
  | "NONE"
  | "INVALID_PRODUCER_EPOCH"
  | "PRODUCER_FENCED"
  | "INVALID_TXN_STATE"
  | "INVALID_PRODUCER_ID_MAPPING"
  | "INVALID_TRANSACTION_TIMEOUT"
  | "CONCURRENT_TRANSACTIONS"
  | "UNKNOWN_TOPIC_OR_PARTITION"
  | "COORDINATOR_NOT_AVAILABLE"
  | "TRANSACTIONAL_ID_NOT_FOUND"
  | "ILLEGAL_GENERATION"
  | "UNKNOWN_MEMBER_ID"
  | "FENCED_INSTANCE_ID"
  | "REBALANCE_IN_PROGRESS";

/** A partition in a transaction; firstOffset bounds its first batch from below (the end offset when added). */
export interface TxnPartition {
  topic: string;
  topicId: string;
  partition: number;
  firstOffset: number;
}

export interface PendingOffset {
  groupId: string;
  topic: string;
  partition: number;
  offset: number;
  metadata: string | null;
}

/** One transactional id's state: stored as is (JSON) in the transactions MetaStore. */
export interface TxnRecord {
  transactionalId: string;
  producerId: number;
  epoch: number;
  timeoutMs: number;
  state: TxnState;
  partitions: TxnPartition[];
  groups: string[];
  /** TxnOffsetCommit's offsets, written to the group when the transaction commits */
  offsets: PendingOffset[];
  /** when the current transaction began (its first AddPartitions/AddOffsets), -1 when none */
  startMs: number;
  updatedMs: number;
}

export interface AbortedRange {
  producerId: number;
  firstOffset: number;
  /** the abort marker's offset */
  lastOffset: number;
}

/** Transactions ended since the broker started (the metrics' counters). */
export interface TxnCounts {
  committed: number;
  aborted: number;
  /** aborted by the coordinator because they ran past their timeout (also counted in aborted) */
  timedOut: number;
}
