// /api/bindings in all of RabbitMQ's forms, and the bindings of one exchange or queue: list, create
// (POST …/e/{source}/{q|e}/{destination}), show and delete one by its properties key.
// Invariant: bind and unbind are the Vhost calls AMQP's queue.bind/exchange.bind make; lists include the
// default exchange's implicit binding to every queue, as RabbitMQ's do (it can be neither made nor deleted).

import { type Context, Hono } from "hono";
import { BrokerError } from "../../lib/index.ts";
import { type Binding, VHOST } from "../../queues/index.ts";
import type { HttpContext } from "./context.ts";
import { jsonBody } from "./errors.ts";
import { argsHash, bindingJson, defaultBinding, propertiesKey } from "./format.ts";
import { listReply } from "./listing.ts";
import { argsField, exchangeName, HTTP_OWNER, stringField, vhostParam } from "./params.ts";

const lister = {
  name: (b: Binding) =>
    [b.source, b.destination, b.routingKey, propertiesKey(b.routingKey, b.args)].join("\0"),
  shape: bindingJson,
};

/** Every binding of the vhost, the default exchange's first. */
function allBindings(ctx: HttpContext): Binding[] {
  const out = [...ctx.vhost.queues.values()].map(defaultBinding);
  for (const e of ctx.vhost.exchanges.values()) out.push(...e.allBindings());
  return out;
}

function bindingsTo(ctx: HttpContext, kind: Binding["destKind"], name: string): Binding[] {
  const out: Binding[] = [];
  if (kind === "queue") {
    const q = ctx.vhost.queues.get(name);
    if (q !== undefined) out.push(defaultBinding(q));
  }
  for (const e of ctx.vhost.exchanges.values()) out.push(...e.bindingsTo(kind, name));
  return out;
}

/** The source, destination kind and destination the path names; 404 for ones that do not exist. */
function ends(
  ctx: HttpContext,
  c: Context,
): { source: string; destKind: Binding["destKind"]; destination: string } {
  vhostParam(c);
  const source = exchangeName(c.req.param("source"));
  const destKind = c.req.param("dtype") === "q" ? "queue" : "exchange";
  const destination =
    destKind === "exchange" ? exchangeName(c.req.param("dest")) : (c.req.param("dest") ?? "");
  if (!ctx.vhost.exchanges.has(source)) {
    throw new BrokerError("NOT_FOUND", `no exchange '${source}' in vhost '${VHOST}'`);
  }
  const exists =
    destKind === "queue" ? ctx.vhost.queues.has(destination) : ctx.vhost.exchanges.has(destination);
  if (!exists) throw new BrokerError("NOT_FOUND", `no ${destKind} '${destination}' in vhost '${VHOST}'`);
  return { source, destKind, destination };
}

function between(ctx: HttpContext, c: Context): Binding[] {
  const { source, destKind, destination } = ends(ctx, c);
  return bindingsTo(ctx, destKind, destination).filter((b) => b.source === source);
}

/** mochiweb's unquote: `+` is a space, then %XX. */
function unquote(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    throw new BrokerError("INVALID_REQUEST", `bad escape in the properties key part '${s}'`);
  }
}

/** The binding a properties key names ("~", "key", "key~argshash"), or 404. */
function byProperties(ctx: HttpContext, c: Context): Binding {
  const props = c.req.param("props") ?? "";
  const tilde = props.indexOf("~");
  const key = props === "~" ? "" : unquote(tilde < 0 ? props : props.slice(0, tilde));
  const hash = tilde < 0 || props === "~" ? null : unquote(props.slice(tilde + 1));
  const found = between(ctx, c).find(
    (b) =>
      b.routingKey === key && (hash === null ? Object.keys(b.args).length === 0 : argsHash(b.args) === hash),
  );
  if (found === undefined) throw new BrokerError("NOT_FOUND", `no binding with properties key '${props}'`);
  return found;
}

export function bindingsRoutes(ctx: HttpContext): Hono {
  const app = new Hono();
  const list = (c: Context, items: Binding[]) => listReply(c, items, lister);
  const pair = "/bindings/:vhost/e/:source/:dtype{[qe]}/:dest";
  app.get("/bindings", (c) => list(c, allBindings(ctx)));
  app.get("/bindings/:vhost", (c) => {
    vhostParam(c);
    return list(c, allBindings(ctx));
  });
  app.get(pair, (c) => list(c, between(ctx, c)));
  app.post(pair, async (c) => {
    const { source, destKind, destination } = ends(ctx, c);
    const body = await jsonBody(c);
    const b: Binding = {
      source,
      destKind,
      destination,
      routingKey: stringField(body, "routing_key", ""),
      args: argsField(body),
    };
    ctx.vhost.checkDestination(b, HTTP_OWNER);
    await ctx.vhost.bind(b);
    const path = new URL(c.req.url).pathname.replace(/\/$/, "");
    c.header("Location", `${path}/${encodeURIComponent(propertiesKey(b.routingKey, b.args))}`);
    return c.body(null, 201);
  });
  app.get(`${pair}/:props`, (c) => c.json(bindingJson(byProperties(ctx, c))));
  app.delete(`${pair}/:props`, async (c) => {
    const b = byProperties(ctx, c);
    if (b.destKind === "queue") ctx.vhost.queue(b.destination, HTTP_OWNER);
    await ctx.vhost.unbind(b);
    return c.body(null, 204);
  });
  app.get("/exchanges/:vhost/:name/bindings/:side{source|destination}", (c) => {
    vhostParam(c);
    const name = exchangeName(c.req.param("name"));
    const e = ctx.vhost.exchanges.get(name);
    if (e === undefined) throw new BrokerError("NOT_FOUND", `no exchange '${name}' in vhost '${VHOST}'`);
    if (c.req.param("side") === "destination") return list(c, bindingsTo(ctx, "exchange", name));
    return list(c, name === "" ? [...ctx.vhost.queues.values()].map(defaultBinding) : e.allBindings());
  });
  app.get("/queues/:vhost/:name/bindings", (c) => {
    vhostParam(c);
    const name = c.req.param("name");
    if (!ctx.vhost.queues.has(name))
      throw new BrokerError("NOT_FOUND", `no queue '${name}' in vhost '${VHOST}'`);
    return list(c, bindingsTo(ctx, "queue", name));
  });
  return app;
}
