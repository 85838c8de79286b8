// The HTTP gateway's application: one module per resource, mounted here.
// Invariant: no socket here; server/ binds it, and tests call `app.request()` directly.

import { Hono } from "hono";
import { healthRoutes } from "./health.ts";

export function createHttpApp(): Hono {
  const app = new Hono();
  app.route("/", healthRoutes());
  app.notFound((c) =>
    c.json({ error: "not_found", reason: `no route for ${c.req.method} ${c.req.path}` }, 404),
  );
  return app;
}
