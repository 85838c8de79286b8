// POST /api/queues/{vhost}/{name}/get: up to `count` messages by basic.get, answered as RabbitMQ's
// management API does. Invariant: every message taken is settled before the answer as its ackmode says
// (ack_requeue_false: taken with no ack; ack_requeue_true and reject_requeue_true: requeued, so
// redelivered next time; reject_requeue_false: rejected, dead-lettered where the queue says), and each
// is counted as a get in the queue's and the broker's counters.

import { BrokerError } from "../../lib/index.ts";
import type { Queue, QueuedMessage } from "../../queues/index.ts";
import { outgoing } from "../amqp/index.ts";
import type { HttpContext } from "./context.ts";
import { encodePayload, propertiesToJson } from "./message-json.ts";
import { intField, stringField } from "./params.ts";

const ACKMODES = ["ack_requeue_true", "ack_requeue_false", "reject_requeue_true", "reject_requeue_false"];
/** how many messages one request may take */
const COUNT_MAX = 10_000;

const bad = (reason: string) => new BrokerError("INVALID_REQUEST", reason);

export async function getMessages(
  ctx: HttpContext,
  q: Queue,
  body: Readonly<Record<string, unknown>>,
): Promise<Record<string, unknown>[]> {
  const ackmode = stringField(body, "ackmode");
  if (!ACKMODES.includes(ackmode)) throw bad(`'ackmode' must be one of ${ACKMODES.join(", ")}`);
  const count = intField(body, "count");
  if (count === undefined) throw bad("'count' is missing");
  if (count > COUNT_MAX) throw bad(`'count' must be at most ${COUNT_MAX}`);
  const encoding = stringField(body, "encoding");
  if (encoding !== "auto" && encoding !== "base64") {
    throw bad("Unsupported encoding. Please use auto or base64.");
  }
  const truncate = intField(body, "truncate");
  const noAck = ackmode === "ack_requeue_false";
  ctx.vhost.touch(q);
  const taken: QueuedMessage[] = [];
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const qm = await q.get(noAck);
    if (qm === null) {
      ctx.vhost.stats.getEmpty++;
      break;
    }
    ctx.vhost.stats.delivery(q.stats, "get", noAck, qm.redelivered);
    if (!noAck) taken.push(qm);
    out.push(messageJson(q, qm, encoding, truncate));
  }
  settle(q, taken, ackmode);
  return out;
}

function messageJson(
  q: Queue,
  qm: QueuedMessage,
  encoding: "auto" | "base64",
  truncate: number | undefined,
): Record<string, unknown> {
  const m = outgoing(q, qm);
  const body = truncate !== undefined && m.body.length > truncate ? m.body.subarray(0, truncate) : m.body;
  return {
    payload_bytes: m.body.length,
    redelivered: qm.redelivered,
    exchange: m.exchange,
    routing_key: m.routingKey,
    message_count: q.messageCount,
    properties: propertiesToJson(m.properties),
    ...encodePayload(body, encoding),
  };
}

/** As RabbitMQ's channel does when the request ends: requeue the unacked (in their order), or reject. */
function settle(q: Queue, taken: readonly QueuedMessage[], ackmode: string): void {
  if (taken.length === 0) return;
  for (const qm of taken) {
    if (ackmode === "reject_requeue_false") q.reject(qm);
    else q.requeue(qm);
  }
  q.drain();
}
