// The composition root: config → storage → listeners, and the shutdown that undoes them in reverse.
// Invariant: start either returns a broker whose every listener accepts connections, or leaves nothing open.

import type { Server } from "node:net";
import { createKafkaServer } from "../gateway/kafka/index.ts";
import { assert, LIMITS, MemoryAccount } from "../lib/index.ts";
import { type BrokerConfig, FLAGS } from "./config.ts";
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

function serverSpecs(
  config: BrokerConfig,
  streams: Streams,
  queues: Queues,
  memory: MemoryAccount,
  log: Logger,
): ServerSpec[] {
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
        }),
    },
    {
      name: "http",
      port: config.httpPort,
      flag: FLAGS.httpPort,
      create: () => createHttpServer(log),
    },
  ];
}

/** Binds every listener in order; on the first failure closes those already bound and rethrows. */
async function listenAll(
  config: BrokerConfig,
  streams: Streams,
  queues: Queues,
  memory: MemoryAccount,
  log: Logger,
): Promise<Map<ListenerName, Listener>> {
  const bound = new Map<ListenerName, Listener>();
  try {
    for (const spec of serverSpecs(config, streams, queues, memory, log)) {
      const server = spec.create();
      bound.set(spec.name, await listen(server, { host: config.host, port: spec.port, flag: spec.flag }));
      server.on("error", (err) => log.error({ err, listener: spec.name }, "listener error"));
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

export async function startBroker(config: BrokerConfig, log: Logger): Promise<Broker> {
  const storage = await openStorage(config, log);
  // the bytes the broker holds, by kind: what the memory alarm follows
  const memory = new MemoryAccount();
  let listeners: Map<ListenerName, Listener>;
  let streams: Streams | undefined;
  let queues: Queues | undefined;
  try {
    streams = await openStreams(config, storage, log);
    queues = await openQueues(config, storage, memory, log);
    listeners = await listenAll(config, streams, queues, memory, log);
  } catch (e) {
    await queues?.close();
    await streams?.close();
    await storage.close();
    throw e;
  }
  const addresses = {
    amqp: addressOf(listeners, "amqp"),
    kafka: addressOf(listeners, "kafka"),
    http: addressOf(listeners, "http"),
  };
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
  await Promise.all([...listeners.values()].map((l) => l.close()));
  await queues.close();
  await streams.close();
  await storage.close();
}

/** The line scripts and tests wait for; printed once every listener accepts connections. */
export function readyLine(broker: Broker, pid: number): string {
  const { amqp, kafka, http } = broker.addresses;
  return `spindle ready pid=${pid} amqp=${amqp} kafka=${kafka} http=${http}`;
}
