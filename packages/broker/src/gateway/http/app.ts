// The HTTP gateway's application: one module per resource, mounted here.
// Invariant: no socket here; server/ binds it, and tests call `app.request()` directly. Every /api
// route is behind basic auth; errors have RabbitMQ's `{"error", "reason"}` shape.

import { Hono } from "hono";
import { basicAuth } from "./auth.ts";
import type { HttpContext } from "./context.ts";
import { errorBody, errorResponse } from "./errors.ts";
import { healthRoutes } from "./health.ts";

export interface HttpAppOptions {
  /** the peer's address, for the loopback rule (tests through `app.request()` have no socket) */
  readonly remote?: (c: Parameters<Parameters<Hono["use"]>[1]>[0]) => string | undefined;
}

export function createHttpApp(ctx?: HttpContext, opts: HttpAppOptions = {}): Hono {
  const app = new Hono();
  app.route("/", healthRoutes());
  app.use("/api/*", basicAuth(opts.remote));
  if (ctx !== undefined) mountApi(app, ctx);
  app.onError((e, c) => errorResponse(c, e));
  app.notFound((c) => c.json(errorBody(404, `no route for ${c.req.method} ${c.req.path}`), 404));
  return app;
}

/** The resources that need the broker. */
function mountApi(_app: Hono, _ctx: HttpContext): void {
  // each resource module adds one line here: app.route("/api", xxxRoutes(ctx));
}
