// The worker thread an embedded:// broker runs in: starts @spindle/broker with the settings it is given,
// posts back its addresses (or why it could not start), and closes it when asked.
// Why a thread: on the application's own event loop the broker's log writes, fsync callbacks and timers
// compete with the handlers (and a handler that blocks the loop stalls the broker); a thread gives the
// broker its own loop and, on a multi-core machine, its own core — while it still dies with the process.
// Invariant: exactly one "started" or "failed" message, and a "closed" answer to "close".

import { parentPort, workerData } from "node:worker_threads";
import { loadPeer } from "../load-peer.ts";

/** What the thread is given: the data directory, the URL's settings, and the ports to reuse (restart). */
export interface WorkerInput {
  dir: string;
  settings: Record<string, string>;
  ports?: Readonly<Record<string, string>> | undefined;
}

/** What the thread says back. */
export type WorkerMessage =
  | { type: "started"; addresses: Record<string, string> }
  | {
      type: "failed";
      error: { name: string; message: string; code?: string | undefined; stack?: string | undefined };
    }
  | { type: "closed" };

async function start({ dir, settings, ports }: WorkerInput) {
  const { createLogger, resolveConfig, startBroker } = await loadPeer(
    "@spindle/broker",
    "embedded",
    () => import("@spindle/broker"),
  );
  const port = (address: string | undefined) =>
    address === undefined ? "0" : address.slice(address.lastIndexOf(":") + 1);
  const argv = {
    ...settings,
    dataDir: dir,
    host: "127.0.0.1",
    amqpPort: port(ports?.amqp),
    kafkaPort: port(ports?.kafka),
    httpPort: port(ports?.http),
  };
  // no env layer: SPINDLE_* variables meant for a standalone broker must not move an embedded one
  const config = resolveConfig({ argv, env: {} });
  return startBroker(config, createLogger(config.logLevel));
}

const port = parentPort;
if (port === null) throw new Error("embedded-broker-worker runs only as a worker thread");
const post = (m: WorkerMessage) => port.postMessage(m);

try {
  const broker = await start(workerData as WorkerInput);
  port.on("message", (m: { type: string }) => {
    if (m.type !== "close") return;
    void broker.close().then(() => post({ type: "closed" }));
  });
  post({ type: "started", addresses: { ...broker.addresses } as Record<string, string> });
} catch (e) {
  const err = e as NodeJS.ErrnoException;
  post({ type: "failed", error: { name: err.name, message: err.message, code: err.code, stack: err.stack } });
}
