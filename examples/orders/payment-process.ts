// The payment service as a process of its own (ORDERS_PAYMENT_PROCESS=1): what the kill test SIGKILLs
// mid-charge. It reads the run's settings from the environment its supervisor passes, and says "ready"
// on stdout once it consumes. Invariant: it shares nothing with the order process but the broker and the
// database, as a real deployment would.

import { connect } from "@spindle/sdk";
import { loadConfig } from "./config.ts";
import { openDb } from "./db.ts";
import { createTables, tablesOf } from "./schema.ts";
import { startPayment } from "./services/payment.ts";
import { openEventStore } from "./stores.ts";

const config = loadConfig();
const t = tablesOf(config.tables);
const db = await openDb(config);
await createTables(db, t);
const events = await openEventStore(db, t);
const bus = await connect(config.busUrl);
const hold = /^(\d+):(in-tx|after-commit)$/u.exec(process.env.ORDERS_PAYMENT_HOLD ?? "");
const sub = await startPayment(bus, db, events, t, config.topics.payment, {
  ...(hold ? { holdAt: { nth: Number(hold[1]), where: hold[2] as "in-tx" | "after-commit" } } : {}),
});
process.stdout.write("ready\n");
process.once("SIGTERM", () => {
  void (async () => {
    await sub.close();
    await bus.close();
    await db.close();
    process.exit(0);
  })();
});
