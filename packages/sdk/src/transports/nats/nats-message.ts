// TransportMessage ⇄ NATS message headers: the CloudEvents NATS binding in binary mode (attributes as
// `ce-` headers, percent-encoded; NATS 2.2+ headers). Invariant: what toNats writes, fromNats reads back.

import { randomUUID } from "node:crypto";
import type { MsgHdrs } from "@nats-io/transport-node";
import { fromBinaryHeaders, toBinaryHeaders } from "../../envelope/bindings.ts";
import type { TransportMessage } from "../transport.ts";

type Headers = typeof import("@nats-io/transport-node").headers;

export function toNats(
  make: Headers,
  message: TransportMessage,
  extra: Record<string, string> = {},
): MsgHdrs {
  const h = make();
  for (const [k, v] of Object.entries({ ...toBinaryHeaders("nats", message).headers, ...extra })) h.set(k, v);
  return h;
}

export function fromNats(headers: MsgHdrs | undefined, body: Uint8Array, drop?: string): TransportMessage {
  const received: Record<string, string> = {};
  for (const k of headers?.keys() ?? []) if (k !== drop) received[k] = headers?.get(k) ?? "";
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return fromBinaryHeaders("nats", received, buf, { fallbackId: randomUUID() });
}
