// /api/exchanges: list, show, declare (PUT), delete exchanges, and publish through one (POST …/publish).
// Invariant: declare and delete are the Vhost calls AMQP's exchange.* methods make (same equivalence rules,
// reserved names and durability); a publish answers {"routed": …} only once the message is stored in
// every queue it was routed to, and is counted as a publish like an AMQP one.

import { type Context, Hono } from "hono";
import { BrokerError, LIMITS } from "../../lib/index.ts";
import {
  createMessage,
  delayOf,
  type Exchange,
  type ExchangeDef,
  knownHeaders,
  parseExpiration,
  REJECTED,
  VHOST,
} from "../../queues/index.ts";
import type { HttpContext } from "./context.ts";
import { jsonBody } from "./errors.ts";
import { exchangeJson } from "./format.ts";
import { listReply } from "./listing.ts";
import { decodePayload, encodeProperties, propertiesFromJson } from "./message-json.ts";
import { argsField, boolField, exchangeName, queryFlag, stringField, vhostParam } from "./params.ts";

const NAME_BYTES_MAX = 255;

export function exchangesRoutes(ctx: HttpContext): Hono {
  const lister = { name: (e: Exchange) => e.name, shape: exchangeJson };
  const app = new Hono();
  const all = (c: Context) => listReply(c, [...ctx.vhost.exchanges.values()], lister);
  app.get("/exchanges", all);
  app.get("/exchanges/:vhost", (c) => {
    vhostParam(c);
    return all(c);
  });
  app.get("/exchanges/:vhost/:name", (c) => c.json(exchangeJson(existing(ctx, c))));
  app.put("/exchanges/:vhost/:name", async (c) => {
    vhostParam(c);
    const name = exchangeName(c.req.param("name"));
    if (Buffer.byteLength(name) > NAME_BYTES_MAX) {
      throw new BrokerError("INVALID_REQUEST", `exchange name is longer than ${NAME_BYTES_MAX} bytes`);
    }
    const body = await jsonBody(c);
    const def: ExchangeDef = {
      name,
      type: stringField(body, "type", "direct") as ExchangeDef["type"],
      durable: boolField(body, "durable", false),
      autoDelete: boolField(body, "auto_delete", false),
      internal: boolField(body, "internal", false),
      args: argsField(body),
    };
    const existed = ctx.vhost.exchanges.has(name);
    await ctx.vhost.declareExchange(def, false);
    return c.body(null, existed ? 204 : 201);
  });
  app.delete("/exchanges/:vhost/:name", async (c) => {
    const e = existing(ctx, c);
    await ctx.vhost.deleteExchange(e.name, queryFlag(c, "if-unused"));
    return c.body(null, 204);
  });
  app.post("/exchanges/:vhost/:name/publish", async (c) => {
    const e = existing(ctx, c);
    return c.json({ routed: await publish(ctx, e, await jsonBody(c)) });
  });
  return app;
}

/** The exchange the path names, or 404. */
export function existing(ctx: HttpContext, c: Context): Exchange {
  vhostParam(c);
  const name = exchangeName(c.req.param("name"));
  const e = ctx.vhost.exchanges.get(name);
  if (e === undefined) throw new BrokerError("NOT_FOUND", `no exchange '${name}' in vhost '${VHOST}'`);
  return e;
}

/** Routes and stores the message; true when it reached a queue. */
async function publish(
  ctx: HttpContext,
  e: Exchange,
  body: Readonly<Record<string, unknown>>,
): Promise<boolean> {
  if (e.def.internal) {
    throw new BrokerError(
      "ACCESS_REFUSED",
      `cannot publish to internal exchange '${e.name}' in vhost '${VHOST}'`,
    );
  }
  const routingKey = stringField(body, "routing_key");
  const props = propertiesFromJson(argsField(body, "properties"));
  const payload = decodePayload(body.payload, body.payload_encoding);
  if (payload.length > LIMITS.amqpMessageBytesMax) {
    throw new BrokerError(
      "PRECONDITION_FAILED",
      `message size ${payload.length} is larger than configured max size ${LIMITS.amqpMessageBytesMax}`,
    );
  }
  const headers = props.headers as Readonly<Record<string, unknown>> | undefined;
  const message = createMessage({
    exchange: e.name,
    routingKey,
    properties: encodeProperties(props),
    body: payload,
    persistent: props.deliveryMode === 2,
    expirationMs: props.expiration === undefined ? undefined : parseExpiration(props.expiration),
    priority: props.priority,
    delayMs: delayOf(headers),
  });
  const targets = ctx.vhost.route(e.name, routingKey, knownHeaders(headers));
  // published as RabbitMQ's API does: mandatory, on a channel in confirm mode
  ctx.vhost.stats.published(targets.length, true, targets.length === 0);
  let rejected = false;
  const stored: Promise<void>[] = [];
  for (const t of targets) {
    const r = t.enqueue(message);
    if (r === REJECTED) rejected = true;
    else stored.push(r);
  }
  await Promise.all(stored);
  if (rejected)
    throw new BrokerError("INVALID_REQUEST", "rejected Unable to publish message. Check queue limits.");
  ctx.vhost.stats.confirmed++;
  return targets.length > 0;
}
