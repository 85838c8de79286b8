// CloudEvents 1.0 binary-mode header mapping for the AMQP, Kafka and NATS protocol bindings, shared by the
// adapters. Invariant: fromBinaryHeaders(b, toBinaryHeaders(b, m)) gives back m's attributes and headers.

import type { CloudEventAttributes, TransportMessage } from "../transports/transport.ts";

export type BindingName = "amqp" | "kafka" | "nats";

interface Binding {
  /** Prefix of a CloudEvents attribute's header name. */
  readonly prefix: string;
  /** `prefix` in lower case: header names are matched without case. */
  readonly prefixLower: string;
  /**
   * Where `datacontenttype` goes: a header of its own ("content-type"), null where the protocol has a
   * property for it (AMQP), or "attribute" for a prefixed header like any other attribute (NATS).
   */
  readonly contentTypeHeader: string | null | "attribute";
  /** NATS header values must be printable ASCII: percent-encode the rest, as the binding says. */
  readonly percentEncode: boolean;
  /** Each core attribute's header name, made once: a name built per publish was a new string to hash. */
  readonly keys: Readonly<Record<(typeof CORE)[number], string>>;
}

const CORE = ["specversion", "id", "source", "type", "time", "subject", "dataschema"] as const;

function binding(b: Omit<Binding, "keys">): Binding {
  const keys = Object.fromEntries(CORE.map((a) => [a, b.prefix + a])) as Binding["keys"];
  return { ...b, keys };
}

const BINDINGS: Record<BindingName, Binding> = {
  // AMQP binding: application properties prefixed "cloudEvents:"; datacontenttype is content-type.
  amqp: binding({
    prefix: "cloudEvents:",
    prefixLower: "cloudevents:",
    contentTypeHeader: null,
    percentEncode: false,
  }),
  // Kafka binding: headers prefixed "ce_"; datacontenttype is the "content-type" header.
  kafka: binding({
    prefix: "ce_",
    prefixLower: "ce_",
    contentTypeHeader: "content-type",
    percentEncode: false,
  }),
  // NATS binding (binary mode, NATS 2.2+ headers): every attribute "ce-"-prefixed, datacontenttype too.
  nats: binding({ prefix: "ce-", prefixLower: "ce-", contentTypeHeader: "attribute", percentEncode: true }),
};

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
  const headers: Record<string, string> = {};
  const own = message.headers;
  for (const k in own) headers[k] = own[k] as string;
  for (const attr of CORE) {
    const v = a[attr];
    if (v !== undefined) headers[b.keys[attr]] = encode(b, v);
  }
  const ext = a.extensions;
  for (const k in ext) headers[b.prefix + k] = encode(b, ext[k] as string);
  const ct = a.datacontenttype;
  if (ct !== undefined && b.contentTypeHeader === "attribute")
    headers[`${b.prefix}datacontenttype`] = encode(b, ct);
  else if (ct !== undefined && b.contentTypeHeader !== null) headers[b.contentTypeHeader] = ct;
  return ct === undefined ? { headers } : { headers, contentType: ct };
}

/** The attribute a header names (lower case), or undefined when it is not a `b.prefix` header. */
function attributeOf(b: Binding, k: string): string | undefined {
  const n = b.prefix.length;
  // the binding's own spelling first: no case folding for what the SDK itself wrote
  if (k.startsWith(b.prefix)) {
    const attr = k.slice(n);
    return attr === attr.toLowerCase() ? attr : attr.toLowerCase();
  }
  if (k.length <= n || k.slice(0, n).toLowerCase() !== b.prefixLower) return undefined;
  return k.slice(n).toLowerCase();
}

/**
 * Reads received headers one at a time into a message (the work of fromBinaryHeaders, for adapters that
 * walk their protocol's headers themselves and so need no intermediate object).
 */
export class BinaryHeaderReader {
  private readonly b: Binding;
  private readonly extensions: Record<string, string> = {};
  private readonly headers: Record<string, string> = {};
  private id: string | undefined;
  private source: string | undefined;
  private type: string | undefined;
  private time: string | undefined;
  private subject: string | undefined;
  private dataschema: string | undefined;
  private contentType: string | undefined;

  constructor(name: BindingName, contentType?: string) {
    this.b = BINDINGS[name];
    this.contentType = contentType;
  }

  /** The id attribute read so far. */
  get idRead(): string | undefined {
    return this.id;
  }

  add(k: string, v: string): void {
    const b = this.b;
    const attr = attributeOf(b, k);
    if (attr === undefined) {
      if (b.contentTypeHeader !== null && k.toLowerCase() === "content-type") this.contentType ??= v;
      else this.headers[k] = v;
      return;
    }
    const value = decode(b, v);
    switch (attr) {
      case "specversion":
        break;
      case "id":
        this.id = value;
        break;
      case "source":
        this.source = value;
        break;
      case "type":
        this.type = value;
        break;
      case "time":
        this.time = value;
        break;
      case "subject":
        this.subject = value;
        break;
      case "dataschema":
        this.dataschema = value;
        break;
      case "datacontenttype":
        this.contentType = value;
        break;
      default:
        this.extensions[attr] = value;
    }
  }

  /** The message: missing required attributes get defaults (see fromBinaryHeaders). */
  message(body: Buffer, extra: { key?: string | undefined; fallbackId: string }): TransportMessage {
    const { extensions, headers } = this;
    const attributes: Mutable<CloudEventAttributes> = {
      specversion: "1.0",
      id: this.id ?? extra.fallbackId,
      source: this.source ?? "unknown",
      type: this.type ?? "unknown",
      extensions,
    };
    if (this.time !== undefined) attributes.time = this.time;
    if (this.subject !== undefined) attributes.subject = this.subject;
    if (this.dataschema !== undefined) attributes.dataschema = this.dataschema;
    if (this.contentType !== undefined) attributes.datacontenttype = this.contentType;
    const key = extra.key ?? extensions.partitionkey;
    return key === undefined ? { attributes, headers, body } : { attributes, headers, key, body };
  }
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
  const reader = new BinaryHeaderReader(name, extra.contentType);
  for (const k in received) {
    const v = received[k];
    if (v !== undefined) reader.add(k, v);
  }
  return reader.message(body, extra);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
