// Kafka wire formats: the record batch (hand-written) and, later, the generated message codecs.
export * from "./crc32c.ts";
export * from "./int64.ts";
export * from "./record-batch.ts";
export * from "./varint.ts";
