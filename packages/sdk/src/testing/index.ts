// Test support for the SDK and its adapters (source only, not built): the contract suite, a fake clock,
// polling waits. Invariant: production code never imports it.
export { type ContractHarness, transportContract } from "./contract.ts";
export { FakeClock, settle } from "./fake-clock.ts";
export { uniqueName, waitFor } from "./wait.ts";
