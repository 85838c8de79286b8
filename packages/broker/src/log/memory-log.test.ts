// The log contract against the in-memory log.
import { logConfig, runLogContract } from "./log-contract.ts";
import { MemoryLog } from "./memory-log.ts";

runLogContract("MemoryLog", {
  create: async (config, clock) => new MemoryLog(logConfig(config), clock),
});
