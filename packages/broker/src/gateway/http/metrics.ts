// GET /metrics: Prometheus' text format — the queue model under RabbitMQ's names, the stream model under
// kafka_exporter's, Spindle's own, and prom-client's Node.js process metrics. No auth, like RabbitMQ's
// Prometheus port. Invariant: each scrape reads the counters as they are now and builds one text; nothing is
// sampled between scrapes (rates are Prometheus' rate()).

import { Hono } from "hono";
import { collectDefaultMetrics, Registry } from "prom-client";
import { writeCleanerMetrics } from "./cleaner-metrics.ts";
import type { HttpContext } from "./context.ts";
import { EXPOSITION_CONTENT_TYPE, Exposition } from "./exposition.ts";
import { writeKafkaMetrics } from "./kafka-metrics.ts";
import { writeRabbitMetrics } from "./rabbitmq-metrics.ts";
import { writeSpindleMetrics } from "./spindle-metrics.ts";
import { writeTransactionMetrics } from "./transaction-metrics.ts";

async function scrape(ctx: HttpContext, processMetrics: Registry): Promise<string> {
  const out = new Exposition();
  writeRabbitMetrics(out, ctx);
  writeKafkaMetrics(out, ctx);
  writeCleanerMetrics(out, ctx);
  writeSpindleMetrics(out, ctx);
  writeTransactionMetrics(out, ctx);
  out.raw(await processMetrics.metrics());
  return out.toString();
}

export function metricsRoutes(ctx: HttpContext): Hono {
  // CPU, RSS, open fds, heap, event-loop lag, GC: prom-client's standard set, named as every Node exporter's
  const processMetrics = new Registry();
  // the event-loop lag is sampled every 100 ms, not prom-client's 10: those 100 wake-ups a second cost an
  // idle broker 6 ms of CPU per second, these 10 about 1
  collectDefaultMetrics({ register: processMetrics, eventLoopMonitoringPrecision: 100 });
  // gauges named `_total`, which `promtool check metrics` rejects (a counter's suffix)
  for (const name of [
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
    "nodejs_active_resources_total",
  ])
    processMetrics.removeSingleMetric(name);
  return new Hono().get("/metrics", async (c) =>
    c.body(await scrape(ctx, processMetrics), 200, { "content-type": EXPOSITION_CONTENT_TYPE }),
  );
}
