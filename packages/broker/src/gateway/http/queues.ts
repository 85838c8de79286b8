// /api/queues: list, show, declare (PUT), delete and purge (DELETE …/contents) queues of the vhost.
// Invariant: declare, delete and purge go through the same Vhost and Queue calls as AMQP's queue.* methods,
// so equivalence checks (400 "inequivalent arg …"), reserved names, exclusivity (405) and durability are
// the same; a 2xx answers only once the change is durable.

import { type Context, Hono } from "hono";
import { BrokerError } from "../../lib/index.ts";
import { type Queue, VHOST } from "../../queues/index.ts";
import type { HttpContext } from "./context.ts";
import { jsonBody } from "./errors.ts";
import { queueJson } from "./format.ts";
import { listReply } from "./listing.ts";
import { argsField, boolField, HTTP_OWNER, queryFlag, vhostParam } from "./params.ts";
import { getMessages } from "./queue-get.ts";
import { ratesOf } from "./rates.ts";

/** AMQP's shortstr: a queue name longer than this could not be named over AMQP. */
const NAME_BYTES_MAX = 255;

export function queuesRoutes(ctx: HttpContext): Hono {
  const rates = ratesOf(ctx);
  const lister = { name: (q: Queue) => q.name, shape: (q: Queue) => queueJson(q, rates) };
  const app = new Hono();
  const all = (c: Context) => listReply(c, [...ctx.vhost.queues.values()], lister);
  app.get("/queues", all);
  app.get("/queues/:vhost", (c) => {
    vhostParam(c);
    return all(c);
  });
  app.get("/queues/:vhost/:name", (c) => c.json(queueJson(existing(ctx, c), rates)));
  app.put("/queues/:vhost/:name", async (c) => {
    vhostParam(c);
    const name = c.req.param("name");
    const body = await jsonBody(c);
    if (Buffer.byteLength(name) > NAME_BYTES_MAX) {
      throw new BrokerError("INVALID_REQUEST", `queue name is longer than ${NAME_BYTES_MAX} bytes`);
    }
    if (boolField(body, "exclusive", false)) {
      throw new BrokerError(
        "INVALID_REQUEST",
        "an exclusive queue belongs to an AMQP connection: declare it over AMQP",
      );
    }
    const existed = ctx.vhost.queues.has(name);
    const decl = {
      name,
      passive: false,
      durable: boolField(body, "durable", false),
      exclusive: false,
      autoDelete: boolField(body, "auto_delete", false),
      args: argsField(body),
    };
    await ctx.vhost.declareQueue(decl, HTTP_OWNER);
    return c.body(null, existed ? 204 : 201);
  });
  app.delete("/queues/:vhost/:name", async (c) => {
    const q = existing(ctx, c);
    await ctx.vhost.deleteQueue(q.name, HTTP_OWNER, queryFlag(c, "if-unused"), queryFlag(c, "if-empty"));
    return c.body(null, 204);
  });
  app.delete("/queues/:vhost/:name/contents", async (c) => {
    const q = ctx.vhost.queue(existing(ctx, c).name, HTTP_OWNER);
    await q.purge();
    return c.body(null, 204);
  });
  app.post("/queues/:vhost/:name/get", async (c) => {
    const q = ctx.vhost.queue(existing(ctx, c).name, HTTP_OWNER);
    return c.json(await getMessages(ctx, q, await jsonBody(c)));
  });
  return app;
}

/** The queue the path names (exclusive ones too: showing is not using), or 404. */
export function existing(ctx: HttpContext, c: Context): Queue {
  vhostParam(c);
  const name = c.req.param("name") ?? "";
  const q = ctx.vhost.queues.get(name);
  if (q === undefined) throw new BrokerError("NOT_FOUND", `no queue '${name}' in vhost '${VHOST}'`);
  return q;
}
