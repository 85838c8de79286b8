// gateway/amqp: AMQP 0-9-1 connections and channels on top of the queue model.
// The only place AMQP frames meet queue-model calls.
export { AmqpConnections, createAmqpServer } from "./amqp-server.ts";
export type { Channel } from "./channel.ts";
export type { ChannelConsumer } from "./channel-consumer.ts";
export type { Connection, ConnectionDeps } from "./connection.ts";
export { amqpDeathCodec } from "./death-codec.ts";
export { outgoing } from "./delivery-count.ts";
export { AMQP_ERROR_MAP } from "./error-map.ts";
export { PublishGate } from "./publish-gate.ts";
export { plainTable } from "./tables.ts";
