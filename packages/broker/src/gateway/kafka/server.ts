// The Kafka listener: a TCP server whose every connection is a KafkaConnection over the handler registry.
// Invariant: each accepted socket gets exactly one KafkaConnection; listen.ts destroys them on close.

import { createServer, type Server } from "node:net";
import {
  type ConnectionLimit,
  LIMITS,
  lazySocketHandler,
  type MemoryAccount,
  type SocketHandler,
} from "../../lib/index.ts";
import type { KafkaBroker } from "./handler.ts";
import { RequestBudget } from "./request-budget.ts";

export interface KafkaServerOptions {
  maxRequestBytes?: number;
  /** request bytes held across all connections; at least maxRequestBytes */
  requestBytesInFlightMax?: number;
  requestReceiveMs?: number;
  idleMs?: number;
  /** where the memory alarm sees request and response bytes */
  memory?: MemoryAccount;
  /** how long producers are asked to wait after each Produce now (a resource alarm); 0 = not at all */
  produceThrottleMs?: () => number;
  /** Called once if the connection code cannot be loaded; connections are then closed. */
  onLoadError?: (err: unknown) => void;
  /** the broker-wide connection limit this listener counts against */
  limit?: ConnectionLimit;
}

/** The registry pulls in every API's generated codecs (~100 modules): loaded on the first connection. */
async function loadConnections(
  broker: KafkaBroker,
  opts: KafkaServerOptions,
  budget: RequestBudget,
): Promise<SocketHandler> {
  const [{ KafkaConnection }, { apiVersionsFallback, HANDLERS }] = await Promise.all([
    import("./connection.ts"),
    import("./registry.ts"),
  ]);
  const maxRequestBytes = opts.maxRequestBytes ?? LIMITS.kafkaRequestBytesMax;
  return (socket) => {
    new KafkaConnection(socket, {
      broker,
      handlers: HANDLERS,
      apiVersionsFallback,
      maxRequestBytes,
      budget,
      requestReceiveMs: opts.requestReceiveMs ?? LIMITS.kafkaRequestReceiveMs,
      idleMs: opts.idleMs ?? LIMITS.kafkaConnectionIdleMs,
      ...(opts.memory === undefined ? {} : { memory: opts.memory }),
      produceThrottleMs: opts.produceThrottleMs ?? (() => 0),
    });
  };
}

export function createKafkaServer(broker: KafkaBroker, opts: KafkaServerOptions = {}): Server {
  const maxRequestBytes = opts.maxRequestBytes ?? LIMITS.kafkaRequestBytesMax;
  const inFlightMax = opts.requestBytesInFlightMax ?? LIMITS.kafkaRequestBytesInFlightMax;
  // one connection's share is one largest request: a pipelining client cannot take the whole budget
  const budget = new RequestBudget(Math.max(inFlightMax, maxRequestBytes), maxRequestBytes, opts.memory);
  const onLoadError = opts.onLoadError ?? (() => {});
  const handle = lazySocketHandler(() => loadConnections(broker, opts, budget), onLoadError);
  const server = createServer((socket) => {
    if (opts.limit !== undefined && opts.limit.admit(socket, "kafka") !== "accept") {
      // As a Kafka broker at max.connections: closed at once; the client retries after its backoff.
      socket.destroy();
      return;
    }
    handle(socket);
  });
  server.maxConnections = LIMITS.kafkaConnectionsMax;
  return server;
}
