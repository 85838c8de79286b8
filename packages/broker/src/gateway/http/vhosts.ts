// GET /api/vhosts[/{vhost}]: Spindle's one virtual host "/", with its message totals and rates.
// Invariant: any other vhost is 404 (vhostParam), as RabbitMQ answers for one that does not exist.

import { Hono } from "hono";
import { VHOST } from "../../queues/index.ts";
import type { HttpContext } from "./context.ts";
import { details, NODE } from "./format.ts";
import { listReply } from "./listing.ts";
import { vhostParam } from "./params.ts";
import { globalCounters, type RateSampler, ratesOf } from "./rates.ts";

export function vhostsRoutes(ctx: HttpContext): Hono {
  const rates = ratesOf(ctx);
  const app = new Hono();
  app.get("/vhosts", (c) => listReply(c, [VHOST], { name: (v) => v, shape: () => vhostJson(ctx, rates) }));
  app.get("/vhosts/:vhost", (c) => {
    vhostParam(c);
    return c.json(vhostJson(ctx, rates));
  });
  return app;
}

function vhostJson(ctx: HttpContext, rates: RateSampler): Record<string, unknown> {
  const n = globalCounters(ctx);
  const count = (name: string) => ({ [name]: n[name] ?? 0, [`${name}_details`]: details(rates.rate(name)) });
  return {
    name: VHOST,
    description: "Default virtual host",
    tags: [],
    metadata: { description: "Default virtual host", tags: [] },
    tracing: false,
    cluster_state: { [NODE]: "running" },
    ...count("messages"),
    ...count("messages_ready"),
    ...count("messages_unacknowledged"),
    message_stats: { ...count("publish"), ...count("deliver_get"), ...count("ack"), ...count("redeliver") },
  };
}
