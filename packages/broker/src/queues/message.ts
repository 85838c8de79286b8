// A message as the queue model sees it, and its form as a log record (headers carry routing data).
// Invariant: toRecord/fromRecord round-trip every field queues keep; properties stay opaque bytes.

import type { Record as LogRecord, RecordInput } from "@spindle/protocol";

export interface Message {
  readonly exchange: string;
  readonly routingKey: string;
  /** encoded content-header properties; only the gateway reads them */
  readonly properties: Buffer;
  readonly body: Buffer;
  readonly persistent: boolean;
  /** header table as plain values, for headers-exchange routing; not stored */
  readonly headers?: Readonly<Record<string, unknown>>;
}

/** A message at its place in one queue. */
export interface QueuedMessage {
  readonly offset: number;
  readonly message: Message;
  redelivered: boolean;
}

const EXCHANGE = "x";
const ROUTING_KEY = "r";
const PROPERTIES = "p";
const PERSISTENT = "d";
const ONE = Buffer.from([1]);
const ZERO = Buffer.from([0]);

export function toRecord(m: Message): RecordInput {
  return {
    key: null,
    value: m.body,
    headers: [
      { key: EXCHANGE, value: Buffer.from(m.exchange) },
      { key: ROUTING_KEY, value: Buffer.from(m.routingKey) },
      { key: PROPERTIES, value: m.properties },
      { key: PERSISTENT, value: m.persistent ? ONE : ZERO },
    ],
  };
}

export function fromRecord(r: LogRecord): Message {
  let exchange = "";
  let routingKey = "";
  let properties: Buffer = Buffer.alloc(0);
  let persistent = false;
  for (const h of r.headers) {
    if (h.value === null) continue;
    if (h.key === EXCHANGE) exchange = h.value.toString();
    else if (h.key === ROUTING_KEY) routingKey = h.value.toString();
    else if (h.key === PROPERTIES) properties = h.value;
    else if (h.key === PERSISTENT) persistent = h.value[0] === 1;
  }
  return { exchange, routingKey, properties, body: r.value ?? Buffer.alloc(0), persistent };
}

export function messageBytes(m: Message): number {
  return m.body.length + m.properties.length + m.routingKey.length + 64;
}
