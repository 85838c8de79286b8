// AMQP 0-9-1 codecs: generated methods, properties and constants; hand-written field tables and framing.
// Invariant: pure functions over bytes only; nothing here does I/O or keeps connection state beyond FrameReader.
export * from "./codec-error.ts";
export * from "./field-table.ts";
export * from "./frame.ts";
export * from "./frame-reader.ts";
export * from "./generated/constants.ts";
export * from "./generated/methods.ts";
export * from "./generated/properties.ts";
export * from "./protocol-header.ts";
export * from "./wire-reader.ts";
export * from "./wire-writer.ts";
