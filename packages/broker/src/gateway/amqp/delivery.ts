// Writing a message to the wire: deliver/get-ok/return method, content header from stored properties, body frames.
// Invariant: every frame fits the connection's negotiated frame_max.

import { amqp } from "@spindle/protocol";
import type { Message } from "../../queues/index.ts";

/** Content header frame built from the stored property bytes without decoding them. */
function headerFrame(channel: number, m: Message): Buffer {
  const size = 12 + m.properties.length;
  const b = Buffer.allocUnsafe(size + amqp.FRAME_OVERHEAD_BYTES);
  b.writeUInt8(amqp.FRAME_HEADER, 0);
  b.writeUInt16BE(channel, 1);
  b.writeUInt32BE(size, 3);
  b.writeUInt16BE(amqp.BASIC_CLASS_ID, 7);
  b.writeUInt16BE(0, 9);
  b.writeBigUInt64BE(BigInt(m.body.length), 11);
  m.properties.copy(b, 19);
  b.writeUInt8(amqp.FRAME_END, b.length - 1);
  return b;
}

/** The bytes of method + header + body frames for one message. */
export function contentFrames(
  channel: number,
  method: amqp.AmqpMethod,
  m: Message,
  frameMax: number,
): Buffer {
  const parts = [amqp.encodeFrame({ type: "method", channel, method }), headerFrame(channel, m)];
  for (const f of amqp.splitBody(channel, m.body, frameMax)) parts.push(amqp.encodeFrame(f));
  return Buffer.concat(parts);
}

/** Property bytes (the header frame payload after class, weight and size). */
export function encodeProperties(p: amqp.BasicProperties): Buffer {
  const w = new amqp.WireWriter(64);
  amqp.encodeBasicProperties(w, p);
  return w.finish();
}
