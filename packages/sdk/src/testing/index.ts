// Test support for the SDK, its adapters and applications' own tests: the transport contract suite; the
// inbox, outbox, event store and projection suites; a sample decider; a fake clock and a bus on it;
// polling waits. Invariant: production code never imports it.

export {
  type AccountCommand,
  type AccountEvent,
  type AccountState,
  accountDecider,
  accountUpcasters,
} from "./account-decider.ts";
export { type ContractHarness, transportContract } from "./contract.ts";
export { type EventStoreHarness, eventStoreContract } from "./event-store-contract.ts";
export { type FakeBus, fakeBus } from "./fake-bus.ts";
export { FakeClock, settle } from "./fake-clock.ts";
export { type InboxHarness, inboxStoreContract } from "./inbox-contract.ts";
export {
  type OutboxHarness,
  type OutboxTx,
  type OutboxUnderTest,
  outboxStoreContract,
} from "./outbox-contract.ts";
export { type BalanceModel, type ProjectionHarness, projectionContract } from "./projection-contract.ts";
export { type SagaHarness, sagaStoreContract } from "./saga-contract.ts";
export { uniqueName, waitFor } from "./wait.ts";
