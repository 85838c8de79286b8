// `spindle status`: the broker at a glance from /api/overview and the alarms health check.
// Invariant: read-only; prints whatever totals the overview reports, so new ones show without a change here.

import { Command } from "commander";
import { type AdminEnv, action, common } from "./command.ts";
import { keyValues } from "./output.ts";

interface Overview {
  readonly product_name?: string;
  readonly product_version?: string;
  readonly rabbitmq_version?: string;
  readonly node?: string;
  readonly listeners?: ReadonlyArray<{ protocol?: string; ip_address?: string; port?: number }>;
  readonly object_totals?: Record<string, unknown>;
  readonly queue_totals?: Record<string, unknown>;
  readonly message_stats?: Record<string, unknown>;
}

interface AlarmCheck {
  readonly status?: string;
  readonly alarms?: ReadonlyArray<{ resource?: string; node?: string }>;
}

export function statusCommand(env: AdminEnv): Command {
  const cmd = common(new Command("status").description("the broker: version, listeners, totals, alarms"));
  return action(cmd, env, async (ctx) => {
    const overview = await ctx.client.get<Overview>("/api/overview");
    // 503 is the check's answer while an alarm is in effect.
    const check = await ctx.client.request<AlarmCheck>("GET", "/api/health/checks/alarms", { accept: [503] });
    const alarms = (check.body?.alarms ?? []).map((a) => a.resource ?? "unknown");
    ctx.result({ ...overview, alarms }, () => statusLines(overview, alarms));
  });
}

function statusLines(o: Overview, alarms: readonly string[]): string[] {
  const product = [o.product_name ?? "spindle", o.product_version ?? o.rabbitmq_version]
    .filter(Boolean)
    .join(" ");
  const listeners = (o.listeners ?? []).map(
    (l) => `${l.protocol ?? "?"} ${l.ip_address ?? "?"}:${l.port ?? "?"}`,
  );
  const q = o.queue_totals ?? {};
  const pairs: Array<readonly [string, unknown]> = [
    ["version", product],
    ["node", o.node],
    ["listeners", listeners.join(", ")],
    ...Object.entries(o.object_totals ?? {}),
    [
      "messages",
      `${q.messages ?? 0} (ready ${q.messages_ready ?? 0}, unacked ${q.messages_unacknowledged ?? 0})`,
    ],
    ...rates(o.message_stats ?? {}),
    ["alarms", alarms.length === 0 ? "none" : alarms.join(", ")],
  ];
  return keyValues(pairs.filter(([, v]) => v !== undefined));
}

/** `publish_details: {rate}` and the like, as `publish rate  12.5/s`. */
function rates(stats: Record<string, unknown>): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (const [k, v] of Object.entries(stats)) {
    if (!k.endsWith("_details") || typeof v !== "object" || v === null) continue;
    const rate = (v as { rate?: unknown }).rate;
    if (typeof rate === "number") out.push([`${k.slice(0, -"_details".length)} rate`, `${round(rate)}/s`]);
  }
  return out;
}

const round = (n: number): number => Math.round(n * 10) / 10;
