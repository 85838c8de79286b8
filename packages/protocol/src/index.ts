// @spindle/protocol: pure codecs (Buffer ⇄ plain objects) for the Kafka and AMQP 0-9-1 wire formats.
// No I/O and no runtime dependencies, so every codec is testable with bytes alone.

export * as amqp from "./amqp/index.ts";
export * from "./kafka/index.ts";
