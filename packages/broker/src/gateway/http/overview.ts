// GET /api/overview, /api/whoami, /api/nodes and /api/extensions: the broker at a glance, as RabbitMQ's
// management API shows a one-node cluster. Invariant: totals are summed from the live model on each
// request (O(queues + connections)); rates come from the sampler, never from a walk of their own.

import { statfs } from "node:fs/promises";
import { cpus } from "node:os";
import { Hono } from "hono";
import { EXCHANGE_TYPES } from "../../queues/index.ts";
import type { HttpContext } from "./context.ts";
import { details, NODE } from "./format.ts";
import { globalCounters, ratesOf } from "./rates.ts";

/** RabbitMQ's names of the overview's message_stats, each with its `_details` rate. */
const MESSAGE_STATS = [
  "publish",
  "confirm",
  "deliver_get",
  "deliver",
  "deliver_no_ack",
  "get",
  "get_no_ack",
  "get_empty",
  "redeliver",
  "ack",
  "return_unroutable",
  "drop_unroutable",
] as const;

const TOTALS = ["messages", "messages_ready", "messages_unacknowledged"] as const;

export function overviewRoutes(ctx: HttpContext): Hono {
  const rates = ratesOf(ctx);
  const app = new Hono();
  app.get("/overview", (c) => {
    const counters = globalCounters(ctx);
    const withRates = (names: readonly string[]) =>
      Object.fromEntries(
        names.flatMap((n) => [
          [n, counters[n] ?? 0],
          [`${n}_details`, details(rates.rate(n))],
        ]),
      );
    return c.json({
      management_version: ctx.version,
      rates_mode: "basic",
      exchange_types: [...EXCHANGE_TYPES, "x-delayed-message"].map((name) => ({ name, enabled: true })),
      product_version: ctx.version,
      product_name: "Spindle",
      rabbitmq_version: ctx.version,
      cluster_name: "spindle",
      node: NODE,
      message_stats: withRates(MESSAGE_STATS),
      queue_totals: withRates(TOTALS),
      object_totals: objectTotals(ctx),
      statistics_db_event_queue: 0,
      listeners: Object.entries(ctx.addresses).map(([protocol, address]) => {
        const colon = address.lastIndexOf(":");
        return {
          node: NODE,
          protocol,
          ip_address: address.slice(0, colon),
          port: Number(address.slice(colon + 1)),
        };
      }),
    });
  });
  app.get("/whoami", (c) => c.json({ name: "guest", tags: ["administrator"] }));
  app.get("/nodes", async (c) => c.json([await node(ctx)]));
  app.get("/extensions", (c) => c.json([]));
  return app;
}

function objectTotals(ctx: HttpContext): Record<string, number> {
  let consumers = 0;
  for (const q of ctx.vhost.queues.values()) consumers += q.consumerCount;
  const connections = ctx.amqp.list();
  let channels = 0;
  for (const conn of connections) channels += conn.channelList().length;
  return {
    channels,
    connections: connections.length,
    consumers,
    exchanges: ctx.vhost.exchanges.size,
    queues: ctx.vhost.queues.size,
  };
}

async function node(ctx: HttpContext): Promise<Record<string, unknown>> {
  const alarm = ctx.alarm() ?? "";
  let diskFree: number | null = null;
  try {
    const s = await statfs(ctx.dataDir);
    diskFree = s.bavail * s.bsize;
  } catch {
    // a data dir that cannot be read for this shows no figure; the disk alarm reports its own failures
  }
  return {
    name: NODE,
    type: "disc",
    running: true,
    os_pid: String(process.pid),
    uptime: Date.now() - ctx.startedMs,
    processors: cpus().length,
    mem_used: process.memoryUsage.rss(),
    mem_alarm: alarm.includes("memory"),
    disk_free: diskFree,
    disk_free_alarm: alarm.includes("disk"),
    rates_mode: "basic",
  };
}
