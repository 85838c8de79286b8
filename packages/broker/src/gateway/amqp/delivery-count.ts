// x-delivery-count: under x-delivery-limit RabbitMQ tells each delivery how often the message was returned
// before (0 on the first). Invariant: only the delivered copy carries the header; the stored message and
// its property bytes stay as published.

import * as amqp from "@spindle/protocol/amqp";
import { createMessage, type Message, type Queue, type QueuedMessage } from "../../queues/index.ts";

/** The message as it goes out to a consumer or basic.get of `queue`. */
export function outgoing(queue: Queue, qm: QueuedMessage): Message {
  if (queue.policy.deliveryLimit === undefined) return qm.message;
  const m = qm.message;
  const props = amqp.decodeBasicProperties(new amqp.WireReader(m.properties, "stored properties"));
  const headers: amqp.FieldTable = { ...((props.headers as amqp.FieldTable | undefined) ?? {}) };
  headers["x-delivery-count"] = amqp.typed("l", BigInt(qm.requeues));
  const w = new amqp.WireWriter(m.properties.length + 32);
  amqp.encodeBasicProperties(w, { ...props, headers });
  return createMessage({ ...m, properties: w.finish() });
}
