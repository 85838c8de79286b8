// `spindle status`: the broker at a glance from /api/overview and /api/nodes (uptime, memory, disk, alarms).
// Invariant: read-only; prints whatever object totals the overview reports, so new ones show without a
// change here.

import { Command } from "commander";
import { type AdminEnv, action, common } from "./command.ts";
import { keyValues } from "./output.ts";
import { compact } from "./progress.ts";

interface Overview {
  readonly product_name?: string;
  readonly product_version?: string;
  readonly node?: string;
  readonly listeners?: ReadonlyArray<{ protocol?: string; ip_address?: string; port?: number }>;
  readonly object_totals?: Record<string, unknown>;
  readonly queue_totals?: Record<string, unknown>;
  readonly message_stats?: Record<string, unknown>;
}

interface Node {
  readonly uptime?: number;
  readonly mem_used?: number;
  readonly mem_alarm?: boolean;
  readonly disk_free?: number;
  readonly disk_free_alarm?: boolean;
}

/** The rates worth a glance (the overview has a dozen). */
const RATES = ["publish", "confirm", "deliver_get", "ack", "redeliver"];

export function statusCommand(env: AdminEnv): Command {
  const cmd = common(new Command("status").description("the broker: version, listeners, totals, alarms"));
  return action(cmd, env, async (ctx) => {
    const overview = await ctx.client.get<Overview>("/api/overview");
    const nodes = await ctx.client.get<Node[]>("/api/nodes");
    const node = nodes[0] ?? {};
    const alarms = [
      node.mem_alarm === true ? "memory" : "",
      node.disk_free_alarm === true ? "disk" : "",
    ].filter((a) => a !== "");
    // --json: the overview as /api/overview has it, with /api/nodes beside it and the alarms by name
    ctx.result({ ...overview, nodes, alarms }, () => statusLines(overview, node, alarms));
  });
}

function statusLines(o: Overview, node: Node, alarms: readonly string[]): string[] {
  const listeners = (o.listeners ?? []).map(
    (l) => `${l.protocol ?? "?"} ${l.ip_address ?? "?"}:${l.port ?? "?"}`,
  );
  const q = o.queue_totals ?? {};
  const pairs: Array<readonly [string, unknown]> = [
    ["version", `${o.product_name ?? "Spindle"} ${o.product_version ?? ""}`.trim()],
    ["node", o.node],
    ["uptime", node.uptime === undefined ? undefined : duration(node.uptime)],
    ["listeners", listeners.join(", ")],
    ...Object.entries(o.object_totals ?? {}),
    [
      "messages",
      `${q.messages ?? 0} (ready ${q.messages_ready ?? 0}, unacked ${q.messages_unacknowledged ?? 0})`,
    ],
    ...rates(o.message_stats ?? {}),
    ["memory", node.mem_used === undefined ? undefined : `${compact(node.mem_used)}B`],
    ["disk free", node.disk_free === undefined ? undefined : `${compact(node.disk_free)}B`],
    ["alarms", alarms.length === 0 ? "none" : alarms.join(", ")],
  ];
  return keyValues(pairs.filter(([, v]) => v !== undefined));
}

/** `publish_details: {rate}` as `publish rate  12.5/s`. */
function rates(stats: Record<string, unknown>): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (const name of RATES) {
    const rate = (stats[`${name}_details`] as { rate?: unknown } | undefined)?.rate;
    if (typeof rate === "number") out.push([`${name} rate`, `${Math.round(rate * 10) / 10}/s`]);
  }
  return out;
}

/** 93784000 ms → `1d 2h 3m 4s`. */
export function duration(ms: number): string {
  let s = Math.floor(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (s >= size || parts.length > 0) parts.push(`${Math.floor(s / size)}${unit}`);
    s %= size;
  }
  parts.push(`${s}s`);
  return parts.join(" ");
}
