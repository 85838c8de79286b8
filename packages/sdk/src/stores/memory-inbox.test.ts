import { inboxStoreContract } from "../testing/inbox-contract.ts";
import { MemoryInbox } from "./memory-inbox.ts";

inboxStoreContract("memory", { open: async () => new MemoryInbox(), durable: false });
