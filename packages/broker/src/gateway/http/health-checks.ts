// GET /api/health/checks/alarms and /api/health/checks/port-listener/{port}: RabbitMQ's health checks,
// for probes that already speak them. Invariant: 200 {"status":"ok", …} when the check passes and
// 503 {"status":"failed","reason", …} when it does not, with RabbitMQ's fields; they read state only.

import { Hono } from "hono";
import { BrokerError } from "../../lib/index.ts";
import type { HttpContext } from "./context.ts";
import { NODE } from "./format.ts";

export function healthCheckRoutes(ctx: HttpContext): Hono {
  const app = new Hono();
  app.get("/health/checks/alarms", (c) => {
    const reason = ctx.alarm();
    if (reason === null) return c.json({ status: "ok" });
    const alarms = ["memory", "disk"]
      .filter((resource) => reason.includes(resource))
      .map((resource) => ({ resource, node: NODE }));
    return c.json({ status: "failed", reason: "There are alarms in effect in the cluster", alarms }, 503);
  });
  app.get("/health/checks/port-listener/:port", (c) => {
    const raw = c.req.param("port");
    if (!/^\d{1,5}$/.test(raw)) throw new BrokerError("INVALID_REQUEST", "Invalid port");
    const port = Number(raw);
    const ports = Object.values(ctx.addresses).map((a) => Number(a.slice(a.lastIndexOf(":") + 1)));
    if (ports.includes(port)) return c.json({ status: "ok", port });
    return c.json({ status: "failed", reason: "No active listener", missing: port, ports }, 503);
  });
  return app;
}
