// GET /healthz: the liveness probe for load balancers and orchestrators.
// Invariant: answers 200 without touching storage, so it reports the process, not the disk.

import { Hono } from "hono";

export function healthRoutes(): Hono {
  return new Hono().get("/healthz", (c) => c.json({ status: "ok" }));
}
