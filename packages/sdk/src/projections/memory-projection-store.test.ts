import { memoryEventStore } from "../eventsourcing/memory-event-store.ts";
import { projectionContract } from "../testing/projection-contract.ts";
import { memoryProjectionStore } from "./memory-projection-store.ts";

projectionContract<undefined>("memory", {
  transactional: false,
  open: async () => {
    const balances = new Map<string, number>();
    return {
      events: memoryEventStore(),
      store: memoryProjectionStore(),
      model: {
        add: async (_tx, account, amount) =>
          void balances.set(account, (balances.get(account) ?? 0) + amount),
        reset: async () => balances.clear(),
        balances: async () => Object.fromEntries([...balances].sort()),
      },
    };
  },
});
