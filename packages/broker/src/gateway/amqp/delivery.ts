// Writing a message to the wire: deliver/get-ok/return method, content header from stored properties, body frames.
// Invariant: every frame fits the connection's negotiated frame_max.

import { amqp } from "@spindle/protocol";
import type { Message } from "../../queues/index.ts";

/** The bytes of method + header + body frames for one message (stored property bytes, not re-encoded). */
export function contentFrames(
  channel: number,
  method: amqp.AmqpMethod,
  m: Message,
  frameMax: number,
): Buffer {
  return amqp.encodeContentFrames(channel, method, amqp.BASIC_CLASS_ID, m.properties, m.body, frameMax);
}

/** Property bytes (the header frame payload after class, weight and size). */
export function encodeProperties(p: amqp.BasicProperties): Buffer {
  const w = new amqp.WireWriter(64);
  amqp.encodeBasicProperties(w, p);
  return w.finish();
}
