// One Spindle broker in a worker thread of its own: the thread is spawned with the process's flags, starts the
// broker from the resolved settings and answers "started" (its addresses) or "failed" (the broker's error);
// close() asks it to close the broker, kill() ends the thread as a crash would.

import { Worker } from "node:worker_threads";
import type { WorkerInput, WorkerMessage } from "./embedded-broker-worker.ts";

/** A broker as its connections see it: where it listens, and how to stop it (and its thread). */
export interface Broker {
  readonly addresses: Readonly<Record<string, string>>;
  close(): Promise<void>;
  /** Ends the thread without closing the broker: a crash, for tests. */
  kill(): Promise<void>;
}

/**
 * The worker script: a sibling of this module in src/ (.ts, under tsx), in dist/ (.js, from tsc) and in
 * dist/bundle/ (an entry of the bundle, next to the chunk this module is bundled into).
 */
const WORKER = new URL(
  `./embedded-broker-worker${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`,
  import.meta.url,
);

function errorOf(e: Extract<WorkerMessage, { type: "failed" }>["error"]): Error {
  const error = new Error(e.message);
  error.name = e.name;
  if (e.code !== undefined) (error as NodeJS.ErrnoException).code = e.code;
  if (e.stack !== undefined) error.stack = e.stack;
  return error;
}

/** Flags of the main script's input that a worker rejects (it would fail with ERR_INPUT_TYPE_NOT_ALLOWED). */
const INPUT_FLAGS = new Set(["--input-type", "-e", "--eval", "-p", "--print"]);

/** process.execArgv without the flags (and values) that describe how the main script was given. */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const name = flag.split("=")[0] as string;
    if (!INPUT_FLAGS.has(name)) out.push(flag);
    else if (!flag.includes("=")) i++; // its value is the next argument
  }
  return out;
}

/** The thread, with the process's flags (--conditions and the like) and env. */
function spawn(input: WorkerInput): Worker {
  const execArgv = workerExecArgv();
  if (!WORKER.pathname.endsWith(".ts")) return new Worker(WORKER, { workerData: input, execArgv });
  // from the sources (this repo's tests, under tsx): Node 20 does not carry --import's module hooks into a
  // worker thread, so the thread loads the .ts through tsx's own API
  const tsx = import.meta.resolve("tsx/esm/api");
  const code = `import(${JSON.stringify(tsx)}).then((t) => t.tsImport(${JSON.stringify(WORKER.href)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(code, { eval: true, workerData: input, execArgv });
}

/**
 * Starts a broker in its own worker thread; settles once it listens, failed, or the thread died.
 * `onDied` is told when the thread dies after "started" and not because close() was called.
 */
export function startBrokerThread(
  dir: string,
  settings: Record<string, string>,
  ports: Broker["addresses"] | undefined,
  onDied: (reason: string, addresses: Broker["addresses"]) => void,
): Promise<Broker> {
  const input: WorkerInput = { dir, settings, ports };
  const worker = spawn(input);
  return new Promise<Broker>((resolveStart, rejectStart) => {
    let closing: (() => void) | undefined;
    let addresses: Broker["addresses"] | undefined;
    let error: Error | undefined;
    let exited = false;
    const onMessage = (m: WorkerMessage) => {
      if (m.type === "started") {
        addresses = m.addresses;
        resolveStart({ addresses: m.addresses, close: () => close(), kill: () => kill() });
      } else if (m.type === "failed") {
        rejectStart(errorOf(m.error));
        void worker.terminate();
      } else if (m.type === "closed") closing?.();
    };
    const close = async () => {
      if (exited) return; // it died (a crash given up on): nothing answers "closed"
      await new Promise<void>((done) => {
        closing = done;
        worker.postMessage({ type: "close" });
      });
      await worker.terminate();
    };
    const kill = async () => {
      await worker.terminate();
    };
    worker.on("message", onMessage);
    // an uncaught error in the thread: before "started" it is connect()'s error; after, the broker is gone
    // (clients see their connections drop) and onDied is told once the thread has exited
    worker.on("error", (e) => {
      error = e;
      rejectStart(e);
      closing?.();
    });
    worker.on("exit", (code) => {
      exited = true;
      rejectStart(
        error ?? new Error(`embedded broker for ${dir}: its worker thread exited (${code}) before starting`),
      );
      if (closing !== undefined) closing();
      else if (addresses !== undefined) {
        onDied(error ? (error.stack ?? error.message) : `its worker thread exited (${code})`, addresses);
      }
    });
  });
}
