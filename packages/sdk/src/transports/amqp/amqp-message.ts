// TransportMessage ⇄ AMQP 0-9-1 message: the CloudEvents AMQP binding (binary mode: attributes as
// `cloudEvents:`-prefixed headers, datacontenttype as the content-type property). Invariant: what
// toAmqp writes, fromAmqp reads back unchanged, and broker bookkeeping headers never reach the app.

import { randomUUID } from "node:crypto";
import type { Message, Options } from "amqplib";
import { fromBinaryHeaders, toBinaryHeaders } from "../../envelope/bindings.ts";
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
  const received: Record<string, string> = {};
  const headers = msg.properties.headers;
  if (headers !== undefined) {
    for (const k in headers) {
      if (k.charCodeAt(0) === 120 /* x */ && BROKER_HEADER.test(k)) continue;
      const s = headerString(headers[k]);
      if (s === undefined) continue;
      // the AMQP binding's spec text says "cloudEvents:"; JMS-minded senders use "cloudEvents_": read both
      if (k.startsWith("cloudEvents_")) received[`cloudEvents:${k.slice(12)}`] ??= s;
      else received[k] = s;
    }
  }
  const ct = msg.properties.contentType as string | undefined;
  const fallbackId =
    received["cloudEvents:id"] ?? (msg.properties.messageId as string | undefined) ?? randomUUID();
  return fromBinaryHeaders("amqp", received, msg.content, {
    ...(ct === undefined ? {} : { contentType: ct }),
    fallbackId,
  });
}

/** How often the broker delivered this copy before: x-delivery-count where counted, else at least 1. */
export function redeliveries(msg: Message): number {
  const count = msg.properties.headers?.["x-delivery-count"];
  if (typeof count === "number") return count;
  return msg.fields.redelivered ? 1 : 0;
}
