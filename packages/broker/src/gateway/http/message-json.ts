// Messages as the management API writes them in JSON: `properties` ⇄ AMQP basic properties (the bytes a
// queue stores), and payloads as a string or base64. Invariant: a message published over HTTP is stored
// with the same property bytes an AMQP client would have sent, so AMQP consumers read it unchanged; an
// unknown property or a value of the wrong type is refused naming it.

import * as amqp from "@spindle/protocol/amqp";
import { BrokerError } from "../../lib/index.ts";
import { plainTable } from "../amqp/index.ts";

type Props = amqp.BasicProperties;

const STRING_PROPS = {
  content_type: "contentType",
  content_encoding: "contentEncoding",
  correlation_id: "correlationId",
  reply_to: "replyTo",
  expiration: "expiration",
  message_id: "messageId",
  type: "type",
  user_id: "userId",
  app_id: "appId",
  cluster_id: "clusterId",
} as const satisfies Record<string, keyof Props>;

const OCTET_PROPS = { delivery_mode: "deliveryMode", priority: "priority" } as const;

const bad = (reason: string) => new BrokerError("INVALID_REQUEST", reason);

/** The `properties` object of a publish, as AMQP basic properties. */
export function propertiesFromJson(json: Readonly<Record<string, unknown>>): Props {
  const p: Props = {};
  for (const [k, v] of Object.entries(json)) {
    if (k in STRING_PROPS) {
      if (typeof v !== "string" && typeof v !== "number") throw bad(`property '${k}' must be a string`);
      p[STRING_PROPS[k as keyof typeof STRING_PROPS]] = String(v);
    } else if (k in OCTET_PROPS) {
      const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 255) {
        throw bad(`property '${k}' must be an integer 0-255, not ${JSON.stringify(v)}`);
      }
      p[OCTET_PROPS[k as keyof typeof OCTET_PROPS]] = n;
    } else if (k === "timestamp") {
      if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
        throw bad(`property 'timestamp' must be seconds since the epoch, not ${JSON.stringify(v)}`);
      }
      p.timestamp = BigInt(v);
    } else if (k === "headers") {
      if (v === null || typeof v !== "object" || Array.isArray(v))
        throw bad("property 'headers' must be an object");
      p.headers = v as amqp.FieldTable;
    } else {
      throw bad(`unsupported property '${k}'`);
    }
  }
  return p;
}

export function encodeProperties(p: Props): Buffer {
  const w = new amqp.WireWriter(64);
  try {
    amqp.encodeBasicProperties(w, p);
  } catch (e) {
    throw bad(`properties cannot be encoded: ${(e as Error).message}`);
  }
  return w.finish();
}

/** The stored property bytes as the management API shows them (only those present). */
export function propertiesToJson(bytes: Buffer): Record<string, unknown> {
  const p = amqp.decodeBasicProperties(new amqp.WireReader(bytes, "stored properties"));
  const out: Record<string, unknown> = {};
  for (const [json, key] of Object.entries(STRING_PROPS)) if (p[key] !== undefined) out[json] = p[key];
  for (const [json, key] of Object.entries(OCTET_PROPS)) if (p[key] !== undefined) out[json] = p[key];
  if (p.timestamp !== undefined) out.timestamp = Number(p.timestamp);
  if (p.headers !== undefined) out.headers = plainTable(p.headers);
  return out;
}

/** A payload sent as "string" (UTF-8) or "base64". */
export function decodePayload(payload: unknown, encoding: unknown): Buffer {
  if (typeof payload !== "string")
    throw bad("'payload' must be a string (use payload_encoding base64 for bytes)");
  if (encoding === undefined || encoding === "string") return Buffer.from(payload, "utf8");
  if (encoding === "base64") {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload.replace(/\s/g, "")))
      throw bad("'payload' is not valid base64");
    return Buffer.from(payload, "base64");
  }
  throw bad(`unsupported payload_encoding ${JSON.stringify(encoding)}: use "string" or "base64"`);
}

/** RabbitMQ's `encoding: auto`: the text when the bytes are valid UTF-8, else base64. */
export function encodePayload(
  body: Buffer,
  encoding: "auto" | "base64",
): { payload: string; payload_encoding: string } {
  const text = encoding === "auto" ? amqp.exactUtf8(body) : undefined;
  return text === undefined
    ? { payload: body.toString("base64"), payload_encoding: "base64" }
    : { payload: text, payload_encoding: "string" };
}
