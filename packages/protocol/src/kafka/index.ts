// Kafka wire formats: the record batch (hand-written), primitives, headers, error codes and generated codecs.

export * from "./codec/api-codec.ts";
export * from "./codec/headers.ts";
export * from "./codec/reader.ts";
export * from "./codec/writer.ts";
export * from "./crc32c.ts";
export * from "./error-codes.ts";
export * from "./generated/index.ts";
export * from "./int64.ts";
export * from "./record-batch.ts";
export * from "./varint.ts";
