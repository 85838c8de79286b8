// gateway/kafka: the Kafka wire protocol over the stream domain. The only place Kafka wire types meet
// streams/ types; the server module is what server/broker.ts binds.
// The registry and error map are not re-exported: server.ts loads them on the first connection.
export type { KafkaBroker } from "./handler.ts";
export { createKafkaServer, type KafkaServerOptions } from "./server.ts";
