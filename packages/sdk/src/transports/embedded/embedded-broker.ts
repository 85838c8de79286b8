// The Spindle brokers this process runs for embedded:// URLs: one per data directory (the directory is
// locked by one broker), each in a worker thread of its own, shared by every connection to it and stopped
// (the broker closed, the thread terminated) when the last one closes. A thread that dies after its
// broker started is replaced by a new one on the same ports and data, so clients reconnect by themselves.
// Invariant: a broker is started on free ports (0) and only from @spindle/broker, loaded on first use.

import { resolve } from "node:path";
import { type Broker, startBrokerThread } from "./broker-thread.ts";

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

/** Restarts after a crash are at least this far apart, so a broker that keeps dying does not spin. */
const RESTART_INTERVAL_MS = 1000;
/** Crashes in a row, each within this long of its start, after which the broker is given up on. */
const QUICK_CRASH_MS = 10_000;
const MAX_QUICK_CRASHES = 5;

interface Entry {
  broker: Promise<Broker>;
  refs: number;
  settings: Record<string, string>;
  /** When the current broker's thread was spawned, and how many crashed in a row soon after that. */
  startedAt: number;
  quickCrashes: number;
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

/** The broker for `url`'s directory, started on first use; release() it once per acquire. */
export async function acquireBroker(url: URL): Promise<{ broker: Broker; release: () => Promise<void> }> {
  const dir = dataDirOf(url);
  const settings = settingsOf(url);
  let entry = running.get(dir);
  if (entry === undefined) {
    const fresh: Entry = {
      broker: startBrokerThread(dir, settings, undefined, (why, addresses) =>
        onCrash(dir, fresh, why, addresses),
      ),
      refs: 0,
      settings,
      startedAt: Date.now(),
      quickCrashes: 0,
    };
    entry = fresh;
    running.set(dir, entry);
    entry.broker.catch(() => running.get(dir) === fresh && running.delete(dir));
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
    // a broker whose restart failed is already gone
    const last = await mine.broker.catch(() => undefined);
    await last?.close();
  };
  return { broker, release };
}

/** Starts the entry's broker again on `ports`, watched for a crash like the first. */
function restart(dir: string, entry: Entry, ports: Broker["addresses"]): Promise<Broker> {
  entry.startedAt = Date.now();
  return startBrokerThread(dir, entry.settings, ports, (why, addresses) =>
    onCrash(dir, entry, why, addresses),
  );
}

/**
 * A broker thread died under its clients: a new one starts on the same ports and data (at most one per
 * RESTART_INTERVAL_MS) and connect() waits on it meanwhile. If it cannot start, or the broker keeps dying
 * soon after starting, the entry is dropped so the next connect() starts one afresh.
 */
function onCrash(dir: string, entry: Entry, why: string, addresses: Broker["addresses"]): void {
  if (running.get(dir) !== entry) return; // released meanwhile
  const uptime = Date.now() - entry.startedAt;
  entry.quickCrashes = uptime < QUICK_CRASH_MS ? entry.quickCrashes + 1 : 0;
  if (entry.quickCrashes >= MAX_QUICK_CRASHES) {
    running.delete(dir);
    process.emitWarning(
      `embedded broker for ${dir} stopped: ${why}; not restarted: it died ${MAX_QUICK_CRASHES} times in a row within ${QUICK_CRASH_MS} ms of starting`,
    );
    return;
  }
  process.emitWarning(`embedded broker for ${dir} stopped: ${why}; restarting it on the same ports`);
  const wait = Math.max(0, RESTART_INTERVAL_MS - uptime);
  entry.broker = new Promise<void>((r) => setTimeout(r, wait)).then(() => restart(dir, entry, addresses));
  entry.broker.catch((e: Error) => {
    if (running.get(dir) !== entry) return;
    running.delete(dir);
    process.emitWarning(`embedded broker for ${dir} could not be restarted: ${e.stack ?? e.message}`);
  });
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
  entry.broker = restart(dir, entry, old.addresses);
  await entry.broker;
}

/** Ends the worker thread of `url`'s broker without closing it, as a crash would. For tests of recovery. */
export async function crashEmbeddedBroker(url: URL): Promise<void> {
  const dir = dataDirOf(url);
  const entry = running.get(dir);
  if (entry === undefined) throw new Error(`no embedded broker runs for ${dir}`);
  await (await entry.broker).kill();
}
