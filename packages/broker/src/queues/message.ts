// A message as the queue model sees it, and its form as a log record (headers carry routing data).
// Invariant: toRecord/fromRecord round-trip every field queues keep; properties stay opaque bytes.

import {
  BATCH_HEADER_BYTES,
  type Cursor,
  type Record as LogRecord,
  type RecordInput,
  readBatchHeader,
  readVarint,
  readVarlong,
} from "@spindle/protocol";
import { LIMITS } from "../lib/index.ts";

export interface Message {
  readonly exchange: string;
  readonly routingKey: string;
  /** encoded content-header properties; only the gateway reads them */
  readonly properties: Buffer;
  readonly body: Buffer;
  readonly persistent: boolean;
  /** per-message TTL from the `expiration` property */
  readonly expirationMs: number | undefined;
  /** the `priority` property (0 when absent) */
  readonly priority: number;
  /** x-delayed-message: hold this long before routing (0 = not delayed) */
  readonly delayMs: number;
}

/** A message's header table as plain values. Routing calls it only when a value decides (a headers
 *  exchange, a delayed exchange's x-delay): most messages go through without their table being built. */
export type HeadersOf = () => Readonly<Record<string, unknown>> | undefined;

/** `build` run on the first call only; later calls answer what it gave. */
export function headersOnce(build: HeadersOf): HeadersOf {
  let built = false;
  let headers: Readonly<Record<string, unknown>> | undefined;
  return () => {
    if (!built) {
      headers = build();
      built = true;
    }
    return headers;
  };
}

/** For headers already built (or none): answers them. */
export const knownHeaders =
  (headers: Readonly<Record<string, unknown>> | undefined): HeadersOf =>
  () =>
    headers;

/** A Message's parts; those left out mean none. */
export type MessageInit = Pick<Message, "exchange" | "routingKey" | "properties" | "body" | "persistent"> & {
  readonly expirationMs?: number | undefined;
  readonly priority?: number | undefined;
  readonly delayMs?: number | undefined;
};

/** Every Message is built here, with every field present and in one order, so all messages share one hidden
 *  class. (Messages built by spreading optional fields each got a map of their own, and every load of a
 *  message field missed V8's inline caches: about 25 cache misses per message.) */
export function createMessage(m: MessageInit): Message {
  return {
    exchange: m.exchange,
    routingKey: m.routingKey,
    properties: m.properties,
    body: m.body,
    persistent: m.persistent,
    expirationMs: m.expirationMs,
    priority: m.priority ?? 0,
    delayMs: m.delayMs ?? 0,
  };
}

/** A message at its place in one queue. */
export interface QueuedMessage {
  readonly offset: number;
  readonly message: Message;
  /** when it entered this queue (the record's timestamp), for TTL */
  readonly enqueuedMs: number;
  redelivered: boolean;
  /** times it was requeued after a delivery (for x-delivery-limit; kept across restarts by the ack log) */
  requeues: number;
}

const EXCHANGE = "x";
const ROUTING_KEY = "r";
const PROPERTIES = "p";
const PERSISTENT = "d";
const EXPIRATION = "t";
const PRIORITY = "y";
const DELAY = "w";
const ONE = Buffer.from([1]);
const ZERO = Buffer.from([0]);

/** Exchange names and routing keys repeat from message to message: encode each once. */
const encoded = new Map<string, Buffer>();

function utf8(s: string): Buffer {
  let b = encoded.get(s);
  if (b === undefined) {
    if (encoded.size >= LIMITS.encodedNamesMax) encoded.clear();
    b = Buffer.from(s);
    encoded.set(s, b);
  }
  return b;
}

export function toRecord(m: Message, timestampMs: number): RecordInput {
  const headers = [
    { key: EXCHANGE, value: utf8(m.exchange) },
    { key: ROUTING_KEY, value: utf8(m.routingKey) },
    { key: PROPERTIES, value: m.properties },
    { key: PERSISTENT, value: m.persistent ? ONE : ZERO },
  ];
  if (m.expirationMs !== undefined)
    headers.push({ key: EXPIRATION, value: Buffer.from(String(m.expirationMs)) });
  if (m.priority) headers.push({ key: PRIORITY, value: Buffer.from([m.priority]) });
  if (m.delayMs) headers.push({ key: DELAY, value: Buffer.from(String(m.delayMs)) });
  return { key: null, value: m.body, headers, timestamp: timestampMs };
}

/** What is written for a message settled before its batch reached the log (a no-ack delivery in the same
 *  turn): its offset, without its contents, which nobody will read again. */
export function settledRecord(timestampMs: number): RecordInput {
  return { value: null, timestamp: timestampMs };
}

/** The message a record holds, or null for a settledRecord. */
export function fromRecord(r: LogRecord): Message | null {
  if (r.value === null && r.headers.length === 0) return null;
  let exchange = "";
  let routingKey = "";
  let properties: Buffer = Buffer.alloc(0);
  let persistent = false;
  let expirationMs: number | undefined;
  let priority = 0;
  let delayMs = 0;
  for (const h of r.headers) {
    if (h.value === null) continue;
    if (h.key === EXCHANGE) exchange = h.value.toString();
    else if (h.key === ROUTING_KEY) routingKey = h.value.toString();
    else if (h.key === PROPERTIES) properties = h.value;
    else if (h.key === PERSISTENT) persistent = h.value[0] === 1;
    else if (h.key === EXPIRATION) expirationMs = Number(h.value.toString());
    else if (h.key === PRIORITY) priority = h.value[0] ?? 0;
    else if (h.key === DELAY) delayMs = Number(h.value.toString());
  }
  const body = r.value ?? Buffer.alloc(0);
  return createMessage({
    exchange,
    routingKey,
    properties,
    body,
    persistent,
    expirationMs,
    priority,
    delayMs,
  });
}

/** The priority lane of a message: priorities above the queue's maximum count as the maximum; a queue
 *  without x-max-priority has the one lane 0. */
export function priorityLane(m: { readonly priority: number }, maxPriority: number | undefined): number {
  return maxPriority === undefined ? 0 : Math.min(m.priority, maxPriority);
}

export function messageBytes(m: Message): number {
  return m.body.length + m.properties.length + m.routingKey.length + 64;
}

/** What a restart counts of a stored message, read without building it. */
export interface MessageFacts {
  readonly offset: number;
  /** false for a transient message and for a settledRecord: neither survives a restart */
  readonly persistent: boolean;
  readonly priority: number;
  readonly bodyBytes: number;
}

const PERSISTENT_BYTE = PERSISTENT.charCodeAt(0);
const PRIORITY_BYTE = PRIORITY.charCodeAt(0);

/**
 * The facts of every record at or after `from` in one uncompressed batch, walked in place: building each
 * message (header keys, names, bodies) made the read-through of a recovered queue cost ~9 µs a message.
 */
export function batchFacts(batch: Buffer, from: number, out: MessageFacts[]): void {
  const h = readBatchHeader(batch);
  const c: Cursor = { buf: batch, pos: BATCH_HEADER_BYTES };
  for (let i = 0; i < h.recordCount; i++) {
    const length = readVarint(c);
    const end = c.pos + length;
    c.pos++; // attributes
    readVarlong(c); // timestamp delta
    const offset = h.baseOffset + readVarint(c);
    const keyBytes = readVarint(c); // (read first: `c.pos +=` would take pos from before the read)
    c.pos += Math.max(0, keyBytes);
    const bodyBytes = readVarint(c);
    c.pos += Math.max(0, bodyBytes);
    let persistent = false;
    let priority = 0;
    for (let n = readVarint(c); n > 0; n--) {
      const nameBytes = readVarint(c);
      const key = nameBytes === 1 ? batch[c.pos] : -1;
      c.pos += Math.max(0, nameBytes);
      const valueBytes = readVarint(c);
      if (valueBytes > 0 && key === PERSISTENT_BYTE) persistent = batch[c.pos] === 1;
      else if (valueBytes > 0 && key === PRIORITY_BYTE) priority = batch[c.pos] ?? 0;
      c.pos += Math.max(0, valueBytes);
    }
    c.pos = end;
    if (offset >= from) out.push({ offset, persistent, priority, bodyBytes: Math.max(0, bodyBytes) });
  }
}
