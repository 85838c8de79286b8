// The composition root: config → storage → listeners, and the shutdown that undoes them in reverse.
// Invariant: start either returns a broker whose every listener accepts connections, or leaves nothing open.

import type { Server } from "node:net";
import { fileURLToPath } from "node:url";
import type { HttpContext } from "../gateway/http/index.ts";
import { createKafkaServer } from "../gateway/kafka/index.ts";
import {
  assert,
  BrokerError,
  Burst,
  ConnectionLimit,
  isOutOfFds,
  LIMITS,
  MemoryAccount,
  systemClock,
} from "../lib/index.ts";
import { OpenFiles } from "../log/index.ts";
import { type BrokerConfig, FLAGS } from "./config.ts";
import { type FdBudget, type FdLimit, fdBudget, fdHint, readOpenFileLimit } from "./fd-budget.ts";
import { createHttpServer } from "./http-listener.ts";
import { formatHostPort, type Listener, listen } from "./listen.ts";
import type { Logger } from "./logger.ts";
import { openQueues, type Queues } from "./queues.ts";
import { openStorage, type Storage } from "./storage.ts";
import { openStreams, type Streams } from "./streams.ts";

export type ListenerName = "amqp" | "kafka" | "http";

export type Broker = {
  readonly config: BrokerConfig;
  /** Bound `host:port` of each listener (the real port when 0 was asked for). */
  readonly addresses: Readonly<Record<ListenerName, string>>;
  /** Stops accepting, closes listeners, then flushes and unlocks storage. Idempotent. */
  close(): Promise<void>;
};

type ServerSpec = { name: ListenerName; port: number; flag: string; create: () => Server };

/** What the listeners serve and share: the two models, the memory account and the connection cap. */
type Opened = {
  readonly streams: Streams;
  readonly queues: Queues;
  readonly memory: MemoryAccount;
  readonly connections: ConnectionLimit;
  /** how to get more file descriptors, for the warnings that run out of them */
  readonly hint: string;
  /** what the HTTP API serves, settled once every listener is bound */
  readonly http: Promise<HttpContext>;
};

function serverSpecs(config: BrokerConfig, opened: Opened, log: Logger): ServerSpec[] {
  const { streams, queues, memory, connections } = opened;
  return [
    { name: "amqp", port: config.amqpPort, flag: FLAGS.amqpPort, create: queues.createAmqpServer },
    {
      name: "kafka",
      port: config.kafkaPort,
      flag: FLAGS.kafkaPort,
      create: () =>
        createKafkaServer(streams.kafka, {
          maxRequestBytes: config.kafkaMaxRequestBytes,
          memory,
          // producers are throttled while an alarm blocks AMQP publishers (Kafka clients honour throttle_time_ms)
          produceThrottleMs: () => (queues.alarm() === null ? 0 : LIMITS.alarmProduceThrottleMs),
          onLoadError: (err) => log.error({ err }, "the Kafka gateway failed to load"),
          limit: connections,
        }),
    },
    {
      name: "http",
      port: config.httpPort,
      flag: FLAGS.httpPort,
      create: () => createHttpServer(log, opened.http, connections),
    },
  ];
}

/** Logs a listener's errors; out of descriptors (accept failing with EMFILE) once per burst: libuv closes
 *  the waiting connection and accepting resumes once descriptors are free. */
function onListenerError(server: Server, name: ListenerName, log: Logger, hint: string): void {
  const outOfFds = new Burst(systemClock);
  server.on("error", (err) => {
    if (!isOutOfFds(err)) log.error({ err, listener: name }, "listener error");
    else if (outOfFds.hit()) {
      log.warn(
        { listener: name, code: (err as NodeJS.ErrnoException).code },
        `cannot accept connections: out of file descriptors; ${hint}`,
      );
    }
  });
}

/** Binds every listener in order; on the first failure closes those already bound and rethrows. */
async function listenAll(
  config: BrokerConfig,
  opened: Opened,
  log: Logger,
): Promise<Map<ListenerName, Listener>> {
  const bound = new Map<ListenerName, Listener>();
  try {
    for (const spec of serverSpecs(config, opened, log)) {
      const server = spec.create();
      bound.set(spec.name, await listen(server, { host: config.host, port: spec.port, flag: spec.flag }));
      onListenerError(server, spec.name, log, opened.hint);
    }
    return bound;
  } catch (e) {
    await Promise.all([...bound.values()].map((l) => l.close()));
    throw e;
  }
}

function addressOf(listeners: Map<ListenerName, Listener>, name: ListenerName): string {
  const l = listeners.get(name);
  assert(l !== undefined, `listener ${name} is bound`);
  return formatHostPort(l.address.address, l.address.port);
}

/** Reads `ulimit -n` and shares it out; refuses to start below what the broker needs for itself. */
function planDescriptors(config: BrokerConfig, fd: FdLimit): FdBudget {
  const budget = fdBudget(fd.limit, config.maxConnections);
  const least = 2 * LIMITS.fdReserveMin;
  if (fd.limit < least) {
    throw new BrokerError(
      "INVALID_CONFIG",
      `the open-file limit (ulimit -n) is ${fd.limit}; spindle needs at least ${least}: raise it before starting`,
      { fdLimit: fd.limit },
    );
  }
  return budget;
}

/** Said once the broker is up (a failed start prints one line and nothing else). */
function reportDescriptors(
  budget: FdBudget,
  source: string,
  files: OpenFiles,
  log: Logger,
  hint: string,
): void {
  log.info({ ...budget, source }, "file descriptors shared: reserve, connections, log segment files");
  if (budget.overcommitted) {
    log.warn(
      { ...budget },
      `${FLAGS.maxConnections} ${budget.maxConnections} leaves too few of the ${budget.fdLimit} file descriptors ` +
        "for log files: connections may fail to be accepted and log opens may wait; raise ulimit -n",
    );
  }
  // more logs than the budget: ulimit -n was lowered since they were made; they still open, lazily
  if (files.logCount > budget.logsMax) {
    log.warn(
      { logs: files.logCount, logsMax: budget.logsMax, fdLimit: budget.fdLimit },
      `${files.logCount} logs exceed the ${budget.logsMax} the open-file limit allows: their segment files ` +
        `are opened and closed on demand, and no partition or durable queue can be created; ${hint}`,
    );
  }
}

export async function startBroker(config: BrokerConfig, log: Logger): Promise<Broker> {
  const fd = readOpenFileLimit();
  const budget = planDescriptors(config, fd);
  const hint = fdHint(budget);
  const files = new OpenFiles({ capacity: budget.logFiles, logsMax: budget.logsMax, hint, logger: log });
  const connections = new ConnectionLimit({
    max: budget.maxConnections,
    clock: systemClock,
    logger: log,
    hint,
  });
  const storage = await openStorage(config, log);
  // the bytes the broker holds, by kind: what the memory alarm follows
  const memory = new MemoryAccount();
  let listeners: Map<ListenerName, Listener>;
  let streams: Streams | undefined;
  let queues: Queues | undefined;
  let resolveHttp: (ctx: HttpContext) => void = () => undefined;
  const http = new Promise<HttpContext>((resolve) => {
    resolveHttp = resolve;
  });
  try {
    streams = await openStreams(config, storage, log, files);
    queues = await openQueues(config, storage, memory, log, { files, connections });
    const opened = { streams, queues, memory, connections, hint, http };
    listeners = await listenAll(config, opened, log);
  } catch (e) {
    await queues?.close();
    await streams?.close();
    await storage.close();
    throw e;
  }
  reportDescriptors(budget, fd.source, files, log, hint);
  const addresses = {
    amqp: addressOf(listeners, "amqp"),
    kafka: addressOf(listeners, "kafka"),
    http: addressOf(listeners, "http"),
  };
  resolveHttp(httpContext(queues, streams, storage, { memory, log, addresses, fdLimit: fd.limit }));
  let closed: Promise<void> | undefined;
  const opened = streams;
  const openedQueues = queues;
  const close = () => (closed ??= closeBroker(listeners, opened, openedQueues, storage));
  return { config, addresses, close };
}

async function closeBroker(
  listeners: Map<ListenerName, Listener>,
  streams: Streams,
  queues: Queues,
  storage: Storage,
): Promise<void> {
  // AMQP clients are told (320 CONNECTION_FORCED) before the listeners destroy what is still open
  await queues.closeConnections();
  await Promise.all([...listeners.values()].map((l) => l.close()));
  await queues.close();
  await streams.close();
  await storage.close();
}

function httpContext(
  queues: Queues,
  streams: Streams,
  storage: Storage,
  more: Pick<HttpContext, "memory" | "addresses" | "fdLimit"> & { log: Logger },
): HttpContext {
  return {
    vhost: queues.vhost,
    streams: streams.kafka,
    amqp: queues.connections,
    alarm: queues.alarm,
    resources: queues.resources,
    fdLimit: more.fdLimit,
    memory: more.memory,
    damage: storage.watch.damageStats.counts,
    syncLatency: storage.watch.syncLatency,
    cleaner: streams.cleaner,
    clock: systemClock,
    logger: more.log,
    version: queues.version,
    dataDir: storage.dataDir,
    addresses: more.addresses,
    startedMs: Date.now() - Math.round(process.uptime() * 1000),
    // the package's dist/console, from dist/server/, dist/bundle/ and src/server/ alike
    consoleDir: fileURLToPath(new URL("../../dist/console/", import.meta.url)),
  };
}

/** The line scripts and tests wait for; printed once every listener accepts connections. */
export function readyLine(broker: Broker, pid: number): string {
  const { amqp, kafka, http } = broker.addresses;
  return `spindle ready pid=${pid} amqp=${amqp} kafka=${kafka} http=${http}`;
}
