// TransportMessage ⇄ Kafka record: the CloudEvents Kafka binding in binary mode (attributes as `ce_`
// headers, datacontenttype as `content-type`, the key as the record key). Invariant: round-trips.

import type { MessageToProduce } from "@platformatic/kafka";
import { fromBinaryHeaders, toBinaryHeaders } from "../../envelope/bindings.ts";
import type { TransportMessage } from "../transport.ts";

export type Record = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

export function toRecord(topic: string, m: TransportMessage, extra: { [k: string]: string } = {}): Record {
  const headers = new Map<Buffer, Buffer>();
  const all = toBinaryHeaders("kafka", m).headers;
  for (const k in all) headers.set(Buffer.from(k), Buffer.from(all[k] as string));
  for (const k in extra) headers.set(Buffer.from(k), Buffer.from(extra[k] as string));
  const r: Record = { topic, value: m.body, headers };
  if (m.key !== undefined) r.key = Buffer.from(m.key);
  return r;
}

export function fromRecord(
  key: Buffer | null | undefined,
  value: Buffer | null | undefined,
  headers: Map<Buffer, Buffer> | undefined,
  fallbackId: string,
  drop?: string,
): TransportMessage {
  const received: { [k: string]: string } = {};
  for (const [k, v] of headers ?? []) {
    const name = k.toString();
    if (name !== drop) received[name] = v.toString();
  }
  const extra = key === null || key === undefined ? { fallbackId } : { fallbackId, key: key.toString() };
  return fromBinaryHeaders("kafka", received, value ?? Buffer.alloc(0), extra);
}

/** A header's value by name (record headers are keyed by Buffer objects, so Map.get cannot find them). */
export function headerValue(headers: Map<Buffer, Buffer> | undefined, name: string): string | undefined {
  for (const [k, v] of headers ?? []) if (k.toString() === name) return v.toString();
  return undefined;
}
