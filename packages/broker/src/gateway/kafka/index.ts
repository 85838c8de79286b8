// gateway/kafka: the Kafka wire protocol over the stream domain. The only place Kafka wire types meet
// streams/ types; the server module is what server/broker.ts binds.
export { KAFKA_ERROR_FOR, kafkaError } from "./error-map.ts";
export type { KafkaBroker } from "./handler.ts";
export { HANDLERS } from "./registry.ts";
export { createKafkaServer, type KafkaServerOptions } from "./server.ts";
