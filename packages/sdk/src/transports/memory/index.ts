// The memory:// transport's public surface: the factory connect() uses, and the broker handle tests use
// to restart it. Invariant: nothing here does I/O.
export { dropMemoryBroker, MemoryBroker, memoryBroker } from "./memory-broker.ts";
export { createMemoryTransport as createTransport, MemoryTransport } from "./memory-transport.ts";
