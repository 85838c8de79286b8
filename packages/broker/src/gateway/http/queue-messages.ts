// GET /api/queues/{vhost}/{name}/messages: a page of a queue's unsettled messages in queue order, read
// from its log. Invariant: nothing is consumed, requeued or flagged (`redelivered` stays as it was), and
// the queue's x-expires countdown is not restarted: looking is not using.

import { type Context, Hono } from "hono";
import { LIMITS } from "../../lib/index.ts";
import { type PeekedMessage, peekMessages } from "../../queues/index.ts";
import type { HttpContext } from "./context.ts";
import { messageFilter } from "./message-filter.ts";
import { encodePayload, propertiesToJson } from "./message-json.ts";
import { intValue } from "./params.ts";
import { existing } from "./queues.ts";

const LIMIT_DEFAULT = 100;

export function queueMessagesRoutes(ctx: HttpContext): Hono {
  return new Hono().get("/queues/:vhost/:name/messages", async (c: Context) => {
    const q = existing(ctx, c);
    const from = intValue(c.req.query("from"), "from", 0);
    const limit = intValue(c.req.query("limit"), "limit", 1, LIMITS.queuePeekMessagesMax) ?? LIMIT_DEFAULT;
    const match = messageFilter(c.req.query("filter"));
    const page = await peekMessages(q, {
      limit,
      ...(from === undefined ? {} : { from }),
      ...(match === undefined ? {} : { match }),
    });
    return c.json({ messages: page.messages.map(peekedJson), next: page.next });
  });
}

function peekedJson(p: PeekedMessage): Record<string, unknown> {
  const m = p.message;
  return {
    position: p.position,
    state: p.state,
    exchange: m.exchange,
    routing_key: m.routingKey,
    redelivered: p.redelivered,
    properties: propertiesToJson(m.properties),
    payload_bytes: m.body.length,
    ...encodePayload(m.body, "auto"),
  };
}
