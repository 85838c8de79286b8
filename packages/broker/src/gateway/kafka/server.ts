// The Kafka listener: a TCP server whose every connection is a KafkaConnection over the handler registry.
// Invariant: each accepted socket gets exactly one KafkaConnection; listen.ts destroys them on close.

import { createServer, type Server } from "node:net";
import { LIMITS } from "../../lib/index.ts";
import { KafkaConnection } from "./connection.ts";
import type { KafkaBroker } from "./handler.ts";
import { apiVersionsFallback, HANDLERS } from "./registry.ts";

export interface KafkaServerOptions {
  maxRequestBytes?: number;
}

export function createKafkaServer(broker: KafkaBroker, opts: KafkaServerOptions = {}): Server {
  const server = createServer((socket) => {
    new KafkaConnection(socket, {
      broker,
      handlers: HANDLERS,
      apiVersionsFallback,
      maxRequestBytes: opts.maxRequestBytes ?? LIMITS.kafkaRequestBytesMax,
    });
  });
  server.maxConnections = LIMITS.kafkaConnectionsMax;
  return server;
}
