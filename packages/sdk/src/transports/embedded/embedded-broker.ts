// The Spindle brokers this process runs for embedded:// URLs: one per data directory (the directory is
// locked by one broker), shared by every connection to it and stopped when the last one closes.
// Invariant: a broker is started on free ports (0) and only from @spindle/broker, loaded on first use.

import { resolve } from "node:path";
import { loadPeer } from "../load-peer.ts";

type BrokerModule = typeof import("@spindle/broker");
type Broker = Awaited<ReturnType<BrokerModule["startBroker"]>>;

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

async function start(
  dir: string,
  settings: Record<string, string>,
  ports?: Broker["addresses"],
): Promise<Broker> {
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
