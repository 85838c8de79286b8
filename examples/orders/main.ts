// `npm run example:orders`: the seeds' order system end to end on one command. Defaults: an embedded
// Spindle broker and SQLite in a temp directory, no outside service; BUS_URL (amqp://, kafka://,
// nats://) and DATABASE_URL (postgres://) run the same against real servers. Prints one line on stdout,
// the counts; the story goes to stderr. Exit 1 when any check fails.
//
// Environment: ORDERS_EXTRA=N more orders; ORDERS_PAYMENT_PROCESS=1 runs the payment service in a child
// process (restarted when it dies); ORDERS_PAYMENT_HOLD=N:in-tx|after-commit makes that child stop
// forever at its Nth charge (the kill test SIGKILLs it there); ORDERS_KEEP=1 keeps tables and data.

import { rmSync } from "node:fs";
import { type App, startApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { openDb } from "./db.ts";
import { runScenario } from "./scenario.ts";
import { dropTables, tablesOf } from "./schema.ts";
import { type Supervised, supervisePayment } from "./supervisor.ts";

const config = loadConfig();
const extra = Number(process.env.ORDERS_EXTRA ?? "0");
if (!Number.isSafeInteger(extra) || extra < 0) throw new Error(`ORDERS_EXTRA must be a count ≥ 0`);
const separatePayment = process.env.ORDERS_PAYMENT_PROCESS === "1";
console.error(`orders: run ${config.runId} on ${config.busUrl} with ${config.database.kind}`);

let app: App | undefined;
let payment: Supervised | undefined;
let failed = false;
try {
  // both start at once (each takes seconds); orders flow only once both consume
  const [a, p] = await Promise.all([
    startApp(config, { inProcessPayment: !separatePayment }),
    separatePayment ? supervisePayment(config) : undefined,
  ]);
  app = a;
  payment = p;
  const c = await runScenario(app, { extraOrders: extra });
  if (payment) console.error(`orders: payment processes started: ${payment.starts}`);
  console.log(
    `orders: ${c.placed} placed, ${c.completed} completed, ${c.compensated} compensated, ` +
      `${c.deadLettered} dead-lettered, ${c.redriven} redriven`,
  );
} catch (e) {
  failed = true;
  console.error("orders: FAILED:", e);
} finally {
  // a stuck close must not keep a failed run alive, nor skip the clean-up of shared servers
  const hard = setTimeout(() => {
    console.error("orders: closing and cleaning up took over 40 s; exiting");
    process.exit(1);
  }, 40_000);
  const closing = (async () => {
    await payment?.stop();
    await app?.close();
  })();
  const closed = await Promise.race([
    closing.then(
      () => true,
      (e) => {
        console.error("orders: close:", e);
        return true;
      },
    ),
    new Promise<false>((r) => setTimeout(() => r(false), 20_000)),
  ]);
  if (!closed) console.error("orders: closing took over 20 s; cleaning up anyway");
  if (process.env.ORDERS_KEEP !== "1") await cleanUp();
  clearTimeout(hard);
}
process.exit(failed ? 1 : 0);

/** Drops this run's PostgreSQL tables and deletes its temp dir (the embedded broker's data, SQLite). */
async function cleanUp(): Promise<void> {
  if (config.database.kind === "postgres") {
    const db = await openDb(config);
    await dropTables(db, tablesOf(config.tables)).catch((e) => console.error("orders: drop tables:", e));
    await db.close();
  }
  if (process.env.ORDERS_DIR === undefined) rmSync(config.dir, { recursive: true, force: true });
}
