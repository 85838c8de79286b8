// CloudEvents 1.0 binary-mode header mapping for the AMQP, Kafka and NATS protocol bindings, shared by the
// adapters. Invariant: fromBinaryHeaders(b, toBinaryHeaders(b, m)) gives back m's attributes and headers.

import type { CloudEventAttributes, TransportMessage } from "../transports/transport.ts";

export type BindingName = "amqp" | "kafka" | "nats";

interface Binding {
  /** Prefix of a CloudEvents attribute's header name. */
  readonly prefix: string;
  /**
   * Where `datacontenttype` goes: a header of its own ("content-type"), null where the protocol has a
   * property for it (AMQP), or "attribute" for a prefixed header like any other attribute (NATS).
   */
  readonly contentTypeHeader: string | null | "attribute";
  /** NATS header values must be printable ASCII: percent-encode the rest, as the binding says. */
  readonly percentEncode: boolean;
}

const BINDINGS: Record<BindingName, Binding> = {
  // AMQP binding: application properties prefixed "cloudEvents:"; datacontenttype is content-type.
  amqp: { prefix: "cloudEvents:", contentTypeHeader: null, percentEncode: false },
  // Kafka binding: headers prefixed "ce_"; datacontenttype is the "content-type" header.
  kafka: { prefix: "ce_", contentTypeHeader: "content-type", percentEncode: false },
  // NATS binding (binary mode, NATS 2.2+ headers): every attribute "ce-"-prefixed, datacontenttype too.
  nats: { prefix: "ce-", contentTypeHeader: "attribute", percentEncode: true },
};

const CORE = ["specversion", "id", "source", "type", "time", "subject", "dataschema"] as const;

export interface BinaryHeaders {
  /** Attribute headers and the message's own headers together. */
  readonly headers: Record<string, string>;
  /** `datacontenttype`, for protocols with a content-type property (AMQP); also in `headers` otherwise. */
  readonly contentType?: string;
}

function encode(b: Binding, value: string): string {
  if (!b.percentEncode) return value;
  // space, '"', '%' and everything outside U+0021-U+007E
  return value.replace(/[^\x21\x23\x24\x26-\x7e]/gu, (c) =>
    [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`).join(""),
  );
}

function decode(b: Binding, value: string): string {
  if (!b.percentEncode) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The headers a transport sends for `message` (binary content mode). */
export function toBinaryHeaders(name: BindingName, message: TransportMessage): BinaryHeaders {
  const b = BINDINGS[name];
  const a = message.attributes;
  const headers: Record<string, string> = { ...message.headers };
  for (const attr of CORE) {
    const v = a[attr];
    if (v !== undefined) headers[b.prefix + attr] = encode(b, v);
  }
  for (const [k, v] of Object.entries(a.extensions)) headers[b.prefix + k] = encode(b, v);
  const ct = a.datacontenttype;
  if (ct !== undefined && b.contentTypeHeader === "attribute")
    headers[`${b.prefix}datacontenttype`] = encode(b, ct);
  else if (ct !== undefined && b.contentTypeHeader !== null) headers[b.contentTypeHeader] = ct;
  return ct === undefined ? { headers } : { headers, contentType: ct };
}

/**
 * Rebuilds a message from received headers. Missing required attributes (a message published by a client
 * that is not CloudEvents-aware) get defaults: id from `fallbackId`, source "unknown", type "unknown".
 */
export function fromBinaryHeaders(
  name: BindingName,
  received: Readonly<Record<string, string | undefined>>,
  body: Buffer,
  extra: { contentType?: string; key?: string; fallbackId: string },
): TransportMessage {
  const b = BINDINGS[name];
  const attrs: Record<string, string> = {};
  const extensions: Record<string, string> = {};
  const headers: Record<string, string> = {};
  const core = new Set<string>(CORE);
  let contentType = extra.contentType;
  for (const [k, v] of Object.entries(received)) {
    if (v === undefined) continue;
    const lower = k.toLowerCase();
    if (lower === "content-type" && b.contentTypeHeader !== null) contentType ??= v;
    else if (lower.startsWith(b.prefix.toLowerCase())) {
      const attr = k.slice(b.prefix.length).toLowerCase();
      if (attr === "datacontenttype") contentType = decode(b, v);
      else if (core.has(attr)) attrs[attr] = decode(b, v);
      else extensions[attr] = decode(b, v);
    } else headers[k] = v;
  }
  const attributes: CloudEventAttributes = {
    specversion: "1.0",
    id: attrs.id ?? extra.fallbackId,
    source: attrs.source ?? "unknown",
    type: attrs.type ?? "unknown",
    ...(attrs.time === undefined ? {} : { time: attrs.time }),
    ...(attrs.subject === undefined ? {} : { subject: attrs.subject }),
    ...(attrs.dataschema === undefined ? {} : { dataschema: attrs.dataschema }),
    ...(contentType === undefined ? {} : { datacontenttype: contentType }),
    extensions,
  };
  const key = extra.key ?? extensions.partitionkey;
  return key === undefined ? { attributes, headers, body } : { attributes, headers, key, body };
}
