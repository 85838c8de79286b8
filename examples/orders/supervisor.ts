// Runs the payment service in a child process and starts a new one whenever it dies (as systemd or
// Kubernetes would), so a SIGKILLed consumer comes back and the broker redelivers what it held.
// Invariant: fault injection (ORDERS_PAYMENT_HOLD) reaches only the first child, never a restarted one.

import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Config } from "./config.ts";

export interface Supervised {
  /** Children started so far (1 + restarts). */
  readonly starts: number;
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL("./payment-process.ts", import.meta.url));

export async function supervisePayment(config: Config): Promise<Supervised> {
  let child: ChildProcess | undefined;
  let starts = 0;
  let stopping = false;
  const launch = (): Promise<void> => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ORDERS_RUN_ID: config.runId,
      ORDERS_DIR: config.dir,
      BUS_URL: config.busUrl,
      ...(config.database.kind === "postgres" ? { DATABASE_URL: config.database.url } : {}),
    };
    if (starts > 0) delete env.ORDERS_PAYMENT_HOLD;
    starts++;
    const c = spawn(process.execPath, [...process.execArgv, ENTRY], {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    child = c;
    console.error(`orders: payment process pid=${c.pid} started`);
    c.once("exit", (code, signal) => {
      if (stopping) return;
      console.error(`orders: payment process pid=${c.pid} died (${signal ?? code}); starting another`);
      void launch().catch((e) => console.error("orders: payment restart failed:", e));
    });
    return new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: c.stdout! });
      lines.on("line", (l) => l === "ready" && resolve());
      c.once("exit", () => reject(new Error(`the payment process exited before it was ready`)));
    });
  };
  // a child outlives nothing: when this process exits (even by process.exit), it goes too
  process.once("exit", () => child?.kill("SIGKILL"));
  await launch();
  return {
    get starts() {
      return starts;
    },
    async stop() {
      stopping = true;
      const c = child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGTERM");
      // a handler that never ends (the kill test's hold) would keep its drain waiting for 30 s
      const force = setTimeout(() => c.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(force);
    },
  };
}
