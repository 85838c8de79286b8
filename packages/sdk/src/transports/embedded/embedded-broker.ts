// The Spindle brokers this process runs for embedded:// URLs: one per data directory (the directory is
// locked by one broker), each in a worker thread of its own, shared by every connection to it and stopped
// (the broker closed, the thread terminated) when the last one closes.
// Invariant: a broker is started on free ports (0) and only from @spindle/broker, loaded on first use.

import { resolve } from "node:path";
import { Worker } from "node:worker_threads";
import type { WorkerInput, WorkerMessage } from "./embedded-broker-worker.ts";

/** A broker as its connections see it: where it listens, and how to stop it (and its thread). */
interface Broker {
  readonly addresses: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/** Where the data lives when the URL names no directory. */
export const DEFAULT_DIR = "./.spindle";
/** What an embedded broker logs (stderr is the application's): warnings and errors. */
const DEFAULT_LOG_LEVEL = "warn";
/** Broker settings a URL may set as query parameters (?fsync=never&logLevel=info). */
const SETTABLE = [
  "fsync",
  "logLevel",
  "autoCreateTopics",
  "defaultPartitions",
  "kafkaMaxRequestBytes",
  "diskFreeLimit",
  "memoryHighWatermark",
  "maxConnections",
] as const;

interface Entry {
  broker: Promise<Broker>;
  refs: number;
  settings: Record<string, string>;
}

const running = new Map<string, Entry>();

/** The data directory of `embedded://DIR`: ./x stays relative to the working directory, /x is absolute. */
export function dataDirOf(url: URL): string {
  const raw = decodeURIComponent(url.host + url.pathname);
  return resolve(raw === "" ? DEFAULT_DIR : raw);
}

function settingsOf(url: URL): Record<string, string> {
  const settings: Record<string, string> = { logLevel: DEFAULT_LOG_LEVEL };
  for (const [k, v] of url.searchParams) {
    if (!(SETTABLE as readonly string[]).includes(k)) {
      throw new Error(`embedded:// does not take "${k}": its settings are ${SETTABLE.join(", ")}`);
    }
    settings[k] = v;
  }
  return settings;
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

/** Starts a broker in its own worker thread; settles once it listens, failed, or the thread died. */
function start(dir: string, settings: Record<string, string>, ports?: Broker["addresses"]): Promise<Broker> {
  const input: WorkerInput = { dir, settings, ports };
  const worker = spawn(input);
  return new Promise<Broker>((resolveStart, rejectStart) => {
    let closing: (() => void) | undefined;
    let started = false;
    const onMessage = (m: WorkerMessage) => {
      if (m.type === "started") {
        started = true;
        resolveStart({ addresses: m.addresses, close: () => close() });
      } else if (m.type === "failed") {
        rejectStart(errorOf(m.error));
        void worker.terminate();
      } else if (m.type === "closed") closing?.();
    };
    const close = async () => {
      await new Promise<void>((done) => {
        closing = done;
        worker.postMessage({ type: "close" });
      });
      await worker.terminate();
    };
    worker.on("message", onMessage);
    // an uncaught error in the thread: before "started" it is connect()'s error; after, the broker is gone
    // (clients see their connections drop) and the process is told as it would be by the broker itself
    worker.on("error", (e) => {
      rejectStart(e);
      closing?.();
      if (started) process.emitWarning(`embedded broker for ${dir} stopped: ${e.stack ?? e.message}`);
    });
    worker.on("exit", (code) => {
      rejectStart(
        new Error(`embedded broker for ${dir}: its worker thread exited (${code}) before starting`),
      );
      closing?.();
    });
  });
}

/** The broker for `url`'s directory, started on first use; release() it once per acquire. */
export async function acquireBroker(url: URL): Promise<{ broker: Broker; release: () => Promise<void> }> {
  const dir = dataDirOf(url);
  const settings = settingsOf(url);
  let entry = running.get(dir);
  if (entry === undefined) {
    entry = { broker: start(dir, settings), refs: 0, settings };
    running.set(dir, entry);
    entry.broker.catch(() => running.get(dir) === entry && running.delete(dir));
  }
  entry.refs++;
  const mine = entry;
  let broker: Broker;
  try {
    broker = await mine.broker;
  } catch (e) {
    mine.refs--;
    throw e;
  }
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    if (--mine.refs > 0) return;
    if (running.get(dir) === mine) running.delete(dir);
    await (await mine.broker).close();
  };
  return { broker, release };
}

/**
 * Stops the embedded broker of `url`'s directory and starts it again on the same ports and data, as a
 * broker restart under its clients (they reconnect by themselves). For tests of reconnects.
 */
export async function restartEmbeddedBroker(url: URL, downMs = 0): Promise<void> {
  const dir = dataDirOf(url);
  const entry = running.get(dir);
  if (entry === undefined) throw new Error(`no embedded broker runs for ${dir}`);
  const old = await entry.broker;
  await old.close();
  if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
  entry.broker = start(dir, entry.settings, old.addresses);
  await entry.broker;
}
