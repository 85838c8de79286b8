// gateway/amqp: AMQP 0-9-1 connections and channels on top of the queue model.
// The only place AMQP frames meet queue-model calls.
export { AmqpConnections, createAmqpServer } from "./amqp-server.ts";
export type { ConnectionDeps } from "./connection.ts";
export { amqpDeathCodec } from "./death-codec.ts";
export { AMQP_ERROR_MAP } from "./error-map.ts";
export { PublishGate } from "./publish-gate.ts";
