// streams/transactions/: Kafka transactions (KIP-98) — the coordinator, markers, per-partition stable offsets.

export {
  batchProducer,
  controlBatch,
  isControlBatch,
  isTransactionalBatch,
  type MarkerType,
} from "./control-batch.ts";
export {
  type InitResult,
  Transactions,
  type TransactionsOptions,
  TXN_MAX_TIMEOUT_MS,
} from "./coordinator.ts";
export { batchesBelow } from "./stable-read.ts";
export { TxnStore, transactionsDir } from "./txn-store.ts";
export {
  type AbortedRange,
  TXN_STATES,
  type TxnCounts,
  type TxnError,
  type TxnRecord,
  type TxnState,
} from "./txn-types.ts";
