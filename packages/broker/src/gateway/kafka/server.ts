// The Kafka listener: a TCP server whose every connection is a KafkaConnection over the handler registry.
// Invariant: each accepted socket gets exactly one KafkaConnection; listen.ts destroys them on close.

import { createServer, type Server } from "node:net";
import { LIMITS, type MemoryAccount } from "../../lib/index.ts";
import { KafkaConnection } from "./connection.ts";
import type { KafkaBroker } from "./handler.ts";
import { apiVersionsFallback, HANDLERS } from "./registry.ts";
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
}

export function createKafkaServer(broker: KafkaBroker, opts: KafkaServerOptions = {}): Server {
  const maxRequestBytes = opts.maxRequestBytes ?? LIMITS.kafkaRequestBytesMax;
  const inFlightMax = opts.requestBytesInFlightMax ?? LIMITS.kafkaRequestBytesInFlightMax;
  // one connection's share is one largest request: a pipelining client cannot take the whole budget
  const budget = new RequestBudget(Math.max(inFlightMax, maxRequestBytes), maxRequestBytes, opts.memory);
  const server = createServer((socket) => {
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
  });
  server.maxConnections = LIMITS.kafkaConnectionsMax;
  return server;
}
