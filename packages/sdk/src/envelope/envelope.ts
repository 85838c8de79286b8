// The envelope: what `publish` turns data and options into (CloudEvents attributes, correlation and
// causation ids, headers, key, body) and the `Message` a handler sees. Invariant: a published message
// always has a unique id, a source, a type, a time and a datacontenttype.

import { randomUUID } from "node:crypto";
import type { CloudEventAttributes, TransportMessage } from "../transports/transport.ts";
import type { Serializer } from "./serializers.ts";

/** Headers the SDK itself writes; applications should not set names starting with `x-spindle-`. */
export const HEADER = {
  /** The attempt number of the next delivery of a delayed retry copy (1 = first). */
  attempt: "x-spindle-attempt",
  firstFailureMs: "x-spindle-first-failure-ms",
  lastFailureMs: "x-spindle-last-failure-ms",
  /** Dead letters: why, and where from. */
  error: "x-spindle-error",
  errorName: "x-spindle-error-name",
  stack: "x-spindle-stack",
  attempts: "x-spindle-attempts",
  topic: "x-spindle-topic",
  group: "x-spindle-group",
  deadLetteredMs: "x-spindle-dead-lettered-ms",
  /**
   * Broker redeliveries counted by a transport whose broker only flags them (AMQP classic queues): the
   * adapter republishes a redelivered message with this count raised by one (transports/amqp).
   */
  redeliveries: "x-spindle-redeliveries",
} as const;

export interface PublishOptions {
  /** Partition/ordering key (Kafka record key; CloudEvents `partitionkey`). */
  readonly key?: string;
  /** CloudEvents `type`; defaults to the topic name. */
  readonly type?: string;
  /** CloudEvents `id`; defaults to a random UUID. Publishing the same id twice is how a retry of a publish
   * stays a duplicate the inbox can suppress. */
  readonly id?: string;
  readonly subject?: string;
  /** CloudEvents `source`; defaults to the bus's source. */
  readonly source?: string;
  readonly dataschema?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Ties a conversation together; defaults to the causing message's correlation id, else this id (then no
   * `correlationid` attribute is written: receivers take the id).
   */
  readonly correlationId?: string;
  /** The id of the message that caused this one. */
  readonly causationId?: string;
  /** Extra CloudEvents extension attributes (lower-case a-z0-9 names). */
  readonly extensions?: Readonly<Record<string, string>>;
  /** Overrides the bus's serializer for this message (a Buffer uses the buffer serializer by default). */
  readonly serializer?: Serializer;
}

/** A received message, as a handler sees it. */
export interface Message<T = unknown> {
  readonly data: T;
  readonly id: string;
  readonly key: string | undefined;
  /** Application headers (not the CloudEvents attributes, which are in `attributes`). */
  readonly headers: Readonly<Record<string, string>>;
  /** 1 on the first try, 2 on the first retry, … (counted in process and across delayed redeliveries). */
  readonly attempt: number;
  readonly type: string;
  readonly source: string;
  readonly subject: string | undefined;
  readonly time: string | undefined;
  readonly topic: string;
  /** The conversation's id: the `correlationid` attribute, or this message's id when it has none. */
  readonly correlationId: string | undefined;
  readonly causationId: string | undefined;
  readonly attributes: CloudEventAttributes;
  readonly body: Buffer;
}

const EXTENSION_NAME = /^[a-z0-9]{1,20}$/u;

export function checkPublish(topic: string, options: PublishOptions): void {
  if (typeof topic !== "string" || topic.length === 0) {
    throw new TypeError("publish: the topic must be a non-empty string");
  }
  for (const name in options.extensions) {
    if (!EXTENSION_NAME.test(name)) {
      throw new TypeError(`publish: extension attribute "${name}" must be 1-20 lower-case letters or digits`);
    }
  }
  for (const name in options.headers) {
    if (name.toLowerCase().startsWith("x-spindle-") || /^(ce[_-]|cloudevents[:_])/iu.test(name)) {
      throw new TypeError(
        `publish: header "${name}" uses a reserved prefix (x-spindle-, ce_, ce-, cloudEvents:)`,
      );
    }
  }
}

/** The last `time` attribute written, by epoch ms: messages published in the same millisecond share it. */
let lastTime = { ms: Number.NaN, iso: "" };

function isoTime(ms: number): string {
  if (ms !== lastTime.ms) lastTime = { ms, iso: new Date(ms).toISOString() };
  return lastTime.iso;
}

/**
 * Builds the transport message for a publish; `body` and `contentType` come from the serializer. The
 * correlation id is written only when it differs from the id: a message that starts its conversation
 * carries none, and readers imply its own id (`toMessage`), which saves a header on every such message.
 */
export function buildMessage(
  topic: string,
  options: PublishOptions,
  encoded: { body: Buffer; contentType: string; dataschema?: string | undefined },
  defaults: { source: string; nowMs: number },
): TransportMessage {
  const id = options.id ?? randomUUID();
  const extensions: Record<string, string> =
    options.extensions === undefined ? {} : { ...options.extensions };
  const correlationId = options.correlationId;
  if (correlationId !== undefined && correlationId !== id) extensions.correlationid = correlationId;
  else if (extensions.correlationid !== undefined) delete extensions.correlationid;
  if (options.causationId !== undefined) extensions.causationid = options.causationId;
  if (options.key !== undefined) extensions.partitionkey = options.key;
  const dataschema = options.dataschema ?? encoded.dataschema;
  const attributes: Mutable<CloudEventAttributes> = {
    specversion: "1.0",
    id,
    source: options.source ?? defaults.source,
    type: options.type ?? topic,
    time: isoTime(defaults.nowMs),
    datacontenttype: encoded.contentType,
    extensions,
  };
  if (options.subject !== undefined) attributes.subject = options.subject;
  if (dataschema !== undefined) attributes.dataschema = dataschema;
  const headers = options.headers === undefined ? {} : { ...options.headers };
  return options.key === undefined
    ? { attributes, headers, body: encoded.body }
    : { attributes, headers, key: options.key, body: encoded.body };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The application's view of a transport message (SDK headers hidden). */
export function toMessage<T>(topic: string, m: TransportMessage, data: T, attempt: number): Message<T> {
  const headers: Record<string, string> = {};
  const own = m.headers;
  for (const k in own) if (!k.startsWith("x-spindle-")) headers[k] = own[k] as string;
  const a = m.attributes;
  return {
    data,
    id: a.id,
    key: m.key,
    headers,
    attempt,
    type: a.type,
    source: a.source,
    subject: a.subject,
    time: a.time,
    topic,
    // none written: the message started its conversation (buildMessage)
    correlationId: a.extensions.correlationid ?? a.id,
    causationId: a.extensions.causationid,
    attributes: a,
    body: m.body,
  };
}

/** A copy of `m` with `headers` merged over its own. */
export function withHeaders(
  m: TransportMessage,
  headers: Readonly<Record<string, string>>,
): TransportMessage {
  return { ...m, headers: { ...m.headers, ...headers } };
}
