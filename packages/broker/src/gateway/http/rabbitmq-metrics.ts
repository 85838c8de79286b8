// The queue model's metrics under RabbitMQ's Prometheus names (its rabbitmq_prometheus plugin with per-object
// metrics on), so RabbitMQ's Grafana dashboards and alert rules work against Spindle unchanged.
// Invariant: names, types and labels are the plugin's: per-queue gauges carry `vhost` and `queue`, the global
// counters `protocol="amqp091"` (and `queue_type` where RabbitMQ splits by it); counters only grow.

import { readdirSync } from "node:fs";
import { VHOST } from "../../queues/index.ts";
import type { HttpContext } from "./context.ts";
import { type Exposition, labelSet, labelValue } from "./exposition.ts";
import { NODE } from "./format.ts";

/** The cluster name the AMQP handshake and /api/overview announce. */
const CLUSTER = "spindle";

const PROTOCOL = labelSet({ protocol: "amqp091" });
/** Spindle's queues behave as RabbitMQ's classic queues (the type they declare as). */
const PROTOCOL_QUEUE_TYPE = labelSet({ protocol: "amqp091", queue_type: "rabbit_classic_queue" });
/** Messages go to the dead-letter exchange once, unconfirmed: RabbitMQ's at-most-once strategy. */
const DEAD_LETTER = labelSet({ queue_type: "rabbit_classic_queue", dead_letter_strategy: "at_most_once" });

export function writeRabbitMetrics(out: Exposition, ctx: HttpContext): void {
  writeIdentity(out, ctx);
  writeQueues(out, ctx);
  writeConnections(out, ctx);
  writeGlobalCounters(out, ctx);
  writeAlarms(out, ctx);
  writeNode(out, ctx);
}

/** Every RabbitMQ dashboard joins its queries on rabbitmq_identity_info (`* on(instance) group_left`). */
function writeIdentity(out: Exposition, ctx: HttpContext): void {
  out
    .family("rabbitmq_build_info", "untyped", "RabbitMQ & Erlang/OTP version info")
    .sample(
      "rabbitmq_build_info",
      labelSet({ rabbitmq_version: ctx.version, product_name: "Spindle", product_version: ctx.version }),
      1,
    );
  out.family("rabbitmq_identity_info", "untyped", "RabbitMQ node & cluster identity info").sample(
    "rabbitmq_identity_info",
    labelSet({
      rabbitmq_node: NODE,
      rabbitmq_cluster: CLUSTER,
      rabbitmq_cluster_permanent_id: ctx.streams.clusterId,
      rabbitmq_endpoint: "per-object",
    }),
    1,
  );
}

function writeQueues(out: Exposition, ctx: HttpContext): void {
  const queues = [...ctx.vhost.queues.values()];
  const n = queues.length;
  // one label string per queue, reused by every family below: the scrape of 10,000 queues is mostly this loop
  const labels = new Array<string>(n);
  const ready = new Array<number>(n);
  const unacked = new Array<number>(n);
  const total = new Array<number>(n);
  const consumers = new Array<number>(n);
  let consumersTotal = 0;
  const vhost = labelValue(VHOST);
  for (let i = 0; i < n; i++) {
    const q = queues[i]!;
    labels[i] = `{vhost="${vhost}",queue="${labelValue(q.name)}"}`;
    ready[i] = q.messageCount;
    unacked[i] = q.unackedCount;
    total[i] = ready[i]! + unacked[i]!;
    consumers[i] = q.consumerCount;
    consumersTotal += consumers[i]!;
  }
  const each = (name: string, help: string, values: readonly number[]) => {
    out.family(name, "gauge", help);
    for (let i = 0; i < n; i++) out.sample(name, labels[i]!, values[i]!);
  };
  each("rabbitmq_queue_messages_ready", "Messages ready to be delivered to consumers", ready);
  each(
    "rabbitmq_queue_messages_unacked",
    "Messages delivered to consumers but not yet acknowledged",
    unacked,
  );
  each("rabbitmq_queue_messages", "Sum of ready and unacknowledged messages - total queue depth", total);
  each("rabbitmq_queue_consumers", "Consumers on a queue", consumers);
  out.single("rabbitmq_queues", "gauge", "Queues available", n);
  out.single("rabbitmq_consumers", "gauge", "Consumers currently connected", consumersTotal);
  out
    .family("rabbitmq_global_consumers", "gauge", "Current number of consumers")
    .sample("rabbitmq_global_consumers", PROTOCOL, consumersTotal);
}

function writeConnections(out: Exposition, ctx: HttpContext): void {
  const connections = ctx.amqp.list();
  let channels = 0;
  for (const c of connections) channels += c.channelList().length;
  out.single("rabbitmq_connections", "gauge", "Connections currently open", connections.length);
  out.single("rabbitmq_channels", "gauge", "Channels currently open", channels);
}

type Counter = readonly [suffix: string, help: string, value: number];

function counters(out: Exposition, labels: string, list: readonly Counter[]): void {
  for (const [suffix, help, value] of list) {
    const name = `rabbitmq_global_messages_${suffix}_total`;
    out.family(name, "counter", help).sample(name, labels, value);
  }
}

function writeGlobalCounters(out: Exposition, ctx: HttpContext): void {
  const s = ctx.vhost.stats;
  counters(out, PROTOCOL, [
    ["received", "Total number of messages received from publishers", s.received],
    [
      "received_confirm",
      "Total number of messages received from publishers expecting confirmations",
      s.receivedConfirm,
    ],
    ["routed", "Total number of messages routed to queues or streams", s.routed],
    [
      "unroutable_dropped",
      "Total number of messages published as non-mandatory into an exchange and dropped as unroutable",
      s.unroutableDropped,
    ],
    [
      "unroutable_returned",
      "Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable",
      s.unroutableReturned,
    ],
    ["confirmed", "Total number of messages confirmed to publishers", s.confirmed],
  ]);
  counters(out, PROTOCOL_QUEUE_TYPE, [
    ["delivered", "Total number of messages delivered to consumers", s.delivered],
    [
      "delivered_consume_manual_ack",
      "Total number of messages delivered to consumers using basic.consume with manual acknowledgment",
      s.deliveredConsumeManualAck,
    ],
    [
      "delivered_consume_auto_ack",
      "Total number of messages delivered to consumers using basic.consume with automatic acknowledgment",
      s.deliveredConsumeAutoAck,
    ],
    [
      "delivered_get_manual_ack",
      "Total number of messages delivered to consumers using basic.get with manual acknowledgment",
      s.deliveredGetManualAck,
    ],
    [
      "delivered_get_auto_ack",
      "Total number of messages delivered to consumers using basic.get with automatic acknowledgment",
      s.deliveredGetAutoAck,
    ],
    ["get_empty", "Total number of times basic.get operations fetched no message", s.getEmpty],
    ["redelivered", "Total number of messages redelivered to consumers", s.redelivered],
    ["acknowledged", "Total number of messages acknowledged by consumers", s.acknowledged],
  ]);
  const dl = s.deadLettered;
  counters(out, DEAD_LETTER, [
    [
      "dead_lettered_maxlen",
      "Total number of messages dead-lettered due to overflow drop-head or reject-publish-dlx",
      dl.maxlen,
    ],
    [
      "dead_lettered_expired",
      "Total number of messages dead-lettered due to message TTL exceeded",
      dl.expired,
    ],
    [
      "dead_lettered_rejected",
      "Total number of messages dead-lettered due to basic.reject or basic.nack",
      dl.rejected,
    ],
    [
      "dead_lettered_delivery_limit",
      "Total number of messages dead-lettered due to delivery-limit exceeded",
      dl.delivery_limit,
    ],
  ]);
}

/** RabbitMQ's three alarms. Spindle has no file-descriptor alarm: past its limit it refuses connections
 *  (`--max-connections`), so that one is always 0. */
function writeAlarms(out: Exposition, ctx: HttpContext): void {
  const reason = ctx.alarm() ?? "";
  out.single(
    "rabbitmq_alarms_file_descriptor_limit",
    "untyped",
    "is 1 if file descriptor limit alarm is in effect",
    0,
  );
  out.single(
    "rabbitmq_alarms_free_disk_space_watermark",
    "untyped",
    "is 1 if free disk space watermark alarm is in effect",
    reason.includes("disk") ? 1 : 0,
  );
  out.single(
    "rabbitmq_alarms_memory_used_watermark",
    "untyped",
    "is 1 if VM memory watermark alarm is in effect",
    reason.includes("memory") ? 1 : 0,
  );
}

/** The node figures RabbitMQ's dashboards subtract to show the room left before publishers are blocked. The
 *  memory alarm's rule is not RSS alone (see resource-alarms.ts), so memory's room is an approximation. */
function writeNode(out: Exposition, ctx: HttpContext): void {
  const r = ctx.resources();
  out.single(
    "rabbitmq_process_resident_memory_bytes",
    "gauge",
    "Memory used in bytes",
    process.memoryUsage.rss(),
  );
  out.single(
    "rabbitmq_resident_memory_limit_bytes",
    "gauge",
    "Memory high watermark in bytes",
    r.memoryLimitBytes,
  );
  out.family("rabbitmq_disk_space_available_bytes", "gauge", "Disk space available in bytes");
  if (r.diskFreeBytes !== null) out.sample("rabbitmq_disk_space_available_bytes", "", r.diskFreeBytes);
  out.single(
    "rabbitmq_disk_space_available_limit_bytes",
    "gauge",
    "Free disk space low watermark in bytes",
    r.diskFreeLimitBytes,
  );
  out.family("rabbitmq_process_open_fds", "gauge", "Open file descriptors");
  const open = openFds();
  if (open !== null) out.sample("rabbitmq_process_open_fds", "", open);
  out.single("rabbitmq_process_max_fds", "gauge", "Open file descriptors limit", ctx.fdLimit);
}

/** Linux only; the listing's own descriptor is not counted. */
function openFds(): number | null {
  try {
    return readdirSync("/proc/self/fd").length - 1;
  } catch {
    return null;
  }
}
