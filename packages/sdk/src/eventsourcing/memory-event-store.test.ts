import { eventStoreContract } from "../testing/event-store-contract.ts";
import { MemoryEventStore } from "./memory-event-store.ts";

eventStoreContract("memory", { open: async (o) => new MemoryEventStore(o ?? {}) });
