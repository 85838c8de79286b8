// TransportMessage ⇄ AMQP 0-9-1 message: the CloudEvents AMQP binding (binary mode: attributes as
// `cloudEvents:`-prefixed headers, datacontenttype as the content-type property). Invariant: what
// toAmqp writes, fromAmqp reads back unchanged, and broker bookkeeping headers never reach the app.

import { randomUUID } from "node:crypto";
import type { Message, Options } from "amqplib";
import { BinaryHeaderReader, toBinaryHeaders } from "../../envelope/bindings.ts";
import { HEADER } from "../../envelope/envelope.ts";
import type { TransportMessage } from "../transport.ts";

/** Headers the broker adds (dead-lettering, delays): dropped on receipt, so a redriven copy is clean. */
const BROKER_HEADER = /^(x-death|x-first-death-|x-last-death-|x-delay$|x-delivery-count$)/u;

/** The basic.publish options for `message` (persistent, CloudEvents headers), plus extra headers. */
export function toAmqp(message: TransportMessage, extra?: Record<string, string | number>): Options.Publish {
  const { headers, contentType } = toBinaryHeaders("amqp", message);
  // toBinaryHeaders made this object: extra keys go straight in (no copy per publish)
  if (extra !== undefined) Object.assign(headers, extra);
  // message_id too (a shortstr property, cheap): AMQP tools show it
  const options: Options.Publish = { persistent: true, messageId: message.attributes.id, headers };
  if (contentType !== undefined) options.contentType = contentType;
  return options;
}

/** A header value as a string: AMQP tables also carry numbers, booleans, byte arrays and tables. */
function headerString(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  return undefined;
}

export function fromAmqp(msg: Message): TransportMessage {
  const ct = msg.properties.contentType as string | undefined;
  // one pass over the table: the reader takes each header as it is read (no intermediate object)
  const reader = new BinaryHeaderReader("amqp", ct);
  const headers = msg.properties.headers;
  if (headers !== undefined) {
    for (const k in headers) {
      if (k.charCodeAt(0) === 120 /* x */ && BROKER_HEADER.test(k)) continue;
      const s = headerString(headers[k]);
      if (s === undefined) continue;
      // the AMQP binding's spec text says "cloudEvents:"; JMS-minded senders use "cloudEvents_": read both
      // (the "cloudEvents:" spelling wins when a message has both)
      if (!k.startsWith("cloudEvents_")) reader.add(k, s);
      else if (headers[`cloudEvents:${k.slice(12)}`] === undefined)
        reader.add(`cloudEvents:${k.slice(12)}`, s);
    }
  }
  const fallbackId = reader.idRead ?? (msg.properties.messageId as string | undefined) ?? randomUUID();
  return reader.message(msg.content, { fallbackId });
}

/** The redeliveries counted so far in the SDK's own header (see `recounted`). */
function carried(msg: Message): number {
  const n = Number(headerString(msg.properties.headers?.[HEADER.redeliveries]) ?? 0);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/**
 * How often this message was delivered before without being settled: the broker's x-delivery-count where
 * it counts (quorum queues, queues with x-delivery-limit), plus what the SDK counted in its header.
 */
export function redeliveries(msg: Message): number {
  const count = msg.properties.headers?.["x-delivery-count"];
  return (typeof count === "number" ? count : 0) + carried(msg);
}

/**
 * A classic queue only flags a redelivery (the redelivered bit), so nobody counts a crash loop: such a
 * delivery is republished to its queue with the SDK's count raised by one, and the original acked.
 */
export function needsRecount(msg: Message): boolean {
  return msg.fields.redelivered && typeof msg.properties.headers?.["x-delivery-count"] !== "number";
}

/** The basic.publish options of `msg` again, with its redelivery count raised by one. */
export function recounted(msg: Message): Options.Publish {
  const p = msg.properties;
  const headers: Record<string, unknown> = {};
  for (const k in p.headers ?? {}) if (!BROKER_HEADER.test(k)) headers[k] = p.headers?.[k];
  headers[HEADER.redeliveries] = carried(msg) + 1;
  const options: Options.Publish = { persistent: true, headers };
  // user_id is left out: the broker checks it against the connection's user
  const copy = [
    "contentType",
    "contentEncoding",
    "priority",
    "correlationId",
    "replyTo",
    "expiration",
    "messageId",
    "timestamp",
    "type",
    "appId",
  ] as const;
  for (const k of copy)
    if (p[k] !== undefined && p[k] !== null) (options as Record<string, unknown>)[k] = p[k];
  return options;
}

/** The id a release is remembered by (the CloudEvents id, as the SDK publishes it in message_id too). */
export function idOf(msg: Message): string | undefined {
  return (
    (msg.properties.messageId as string | undefined) ??
    headerString(msg.properties.headers?.["cloudEvents:id"])
  );
}
