// The HTTP gateway's application: one module per resource, mounted here.
// Invariant: no socket here; server/ binds it, and tests call `app.request()` directly. Every /api
// route is behind basic auth; errors have RabbitMQ's `{"error", "reason"}` shape.

import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { LIMITS } from "../../lib/index.ts";
import { basicAuth } from "./auth.ts";
import { bindingsRoutes } from "./bindings.ts";
import { connectionsRoutes } from "./connections.ts";
import { consoleRoutes } from "./console.ts";
import type { HttpContext } from "./context.ts";
import { definitionsRoutes } from "./definitions.ts";
import { errorBody, errorResponse } from "./errors.ts";
import { exchangesRoutes } from "./exchanges.ts";
import { groupRoutes } from "./groups.ts";
import { healthRoutes } from "./health.ts";
import { healthCheckRoutes } from "./health-checks.ts";
import { liveRoutes } from "./live.ts";
import { metricsRoutes } from "./metrics.ts";
import { overviewRoutes } from "./overview.ts";
import { queueMessagesRoutes } from "./queue-messages.ts";
import { queueMoveRoutes } from "./queue-move.ts";
import { queuesRoutes } from "./queues.ts";
import { ratesOf } from "./rates.ts";
import { recordRoutes } from "./records.ts";
import { topicRoutes } from "./topics.ts";
import { transactionRoutes } from "./transactions.ts";
import { vhostsRoutes } from "./vhosts.ts";

export interface HttpAppOptions {
  /** the peer's address, for the loopback rule (tests through `app.request()` have no socket) */
  readonly remote?: (c: Parameters<Parameters<Hono["use"]>[1]>[0]) => string | undefined;
}

export function createHttpApp(ctx?: HttpContext, opts: HttpAppOptions = {}): Hono {
  const app = new Hono();
  app.route("/", healthRoutes());
  app.use("/api/*", basicAuth(opts.remote));
  app.use("/api/*", bodyLimit({ maxSize: LIMITS.httpBodyBytesMax, onError: tooLarge }));
  if (ctx !== undefined) mountApi(app, ctx);
  app.route("/", consoleRoutes(ctx?.consoleDir));
  app.onError((e, c) => errorResponse(c, e));
  app.notFound((c) => c.json(errorBody(404, `no route for ${c.req.method} ${c.req.path}`), 404));
  return app;
}

function tooLarge(c: Context): Response {
  return c.json(errorBody(413, `the request body is larger than ${LIMITS.httpBodyBytesMax} bytes`), 413);
}

/** The resources that need the broker. */
function mountApi(app: Hono, ctx: HttpContext): void {
  // each resource module adds one line here: app.route("/api", xxxRoutes(ctx));
  ratesOf(ctx); // rates are differences between samples: sampling starts when the app loads
  app.route("/api", overviewRoutes(ctx));
  app.route("/api", vhostsRoutes(ctx));
  app.route("/api", queuesRoutes(ctx));
  app.route("/api", queueMessagesRoutes(ctx));
  app.route("/api", queueMoveRoutes(ctx));
  app.route("/api", liveRoutes(ctx));
  app.route("/api", exchangesRoutes(ctx));
  app.route("/api", topicRoutes(ctx));
  app.route("/api", recordRoutes(ctx));
  app.route("/api", bindingsRoutes(ctx));
  app.route("/api", connectionsRoutes(ctx));
  app.route("/api", definitionsRoutes(ctx));
  app.route("/api", healthCheckRoutes(ctx));
  app.route("/", metricsRoutes(ctx));
  app.route("/api", groupRoutes(ctx));
  app.route("/api", transactionRoutes(ctx));
}
