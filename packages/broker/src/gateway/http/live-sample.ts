// One sample of live data (`GET /api/stream`): the broker's counters, rates per second since the previous
// sample, the deepest queues, the groups that lag most, connections, alarms, memory and free disk.
// Invariant: counters are read in one synchronous pass (a sample is one moment); rates are differences of
// two such readings over the clock's elapsed time, never negative.

import { statfs } from "node:fs/promises";
import type { DeathReason } from "../../queues/index.ts";
import { groupLag, totalLag } from "../../streams/index.ts";
import type { HttpContext } from "./context.ts";

/** How many queues and groups a sample lists by default (the deepest, the most lagging). */
export const LIVE_TOP_DEFAULT = 100;

const REASONS: readonly DeathReason[] = ["rejected", "expired", "maxlen", "delivery_limit"];

export interface Counters {
  readonly published: number;
  readonly confirmed: number;
  readonly delivered: number;
  readonly acked: number;
  readonly redelivered: number;
  readonly dead_lettered: number;
  readonly produce_bytes: number;
  readonly fetch_bytes: number;
  readonly dead_lettered_by_reason: Readonly<Record<DeathReason, number>>;
}

export function readCounters(ctx: HttpContext): Counters {
  const s = ctx.vhost.stats;
  const t = ctx.streams.traffic;
  const byReason = { ...s.deadLettered };
  return {
    published: s.received,
    confirmed: s.confirmed,
    delivered: s.delivered,
    acked: s.acknowledged,
    redelivered: s.redelivered,
    dead_lettered: REASONS.reduce((n, r) => n + byReason[r], 0),
    produce_bytes: t.producedBytes,
    fetch_bytes: t.fetchedBytes,
    dead_lettered_by_reason: byReason,
  };
}

/** Per second, from `prev` to `cur` over `elapsedMs`. */
function ratesBetween(prev: Counters, cur: Counters, elapsedMs: number): Counters {
  const per = (a: number, b: number) => (elapsedMs > 0 ? Math.max(0, ((b - a) * 1000) / elapsedMs) : 0);
  const byReason = {} as Record<DeathReason, number>;
  for (const r of REASONS) byReason[r] = per(prev.dead_lettered_by_reason[r], cur.dead_lettered_by_reason[r]);
  return {
    published: per(prev.published, cur.published),
    confirmed: per(prev.confirmed, cur.confirmed),
    delivered: per(prev.delivered, cur.delivered),
    acked: per(prev.acked, cur.acked),
    redelivered: per(prev.redelivered, cur.redelivered),
    dead_lettered: per(prev.dead_lettered, cur.dead_lettered),
    produce_bytes: per(prev.produce_bytes, cur.produce_bytes),
    fetch_bytes: per(prev.fetch_bytes, cur.fetch_bytes),
    dead_lettered_by_reason: byReason,
  };
}

/** The `top` deepest queues (all when `top` is Infinity), deepest first. */
function queueDepths(ctx: HttpContext, top: number): Record<string, unknown>[] {
  const rows = [...ctx.vhost.queues.values()].map((q) => {
    const ready = q.messageCount;
    const unacked = q.unackedCount;
    return {
      name: q.name,
      messages: ready + unacked,
      messages_ready: ready,
      messages_unacknowledged: unacked,
      consumers: q.consumerCount,
    };
  });
  rows.sort((a, b) => b.messages - a.messages || (a.name < b.name ? -1 : 1));
  return rows.slice(0, top);
}

/** The `top` groups with the most lag (committed offsets behind their partitions' ends), most first. */
function groupLags(ctx: HttpContext, top: number): { group_id: string; lag: number }[] {
  const { topics, groups } = ctx.streams;
  const rows = groups
    .list()
    .map((g) => ({ group_id: g.groupId, lag: totalLag(groupLag(topics, groups, g.groupId)) }));
  rows.sort((a, b) => b.lag - a.lag || (a.group_id < b.group_id ? -1 : 1));
  return rows.slice(0, top);
}

async function diskFree(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null; // the disk alarm reports a data dir it cannot read
  }
}

/** The JSON of one sample (`prev`: the counters of the previous one, `elapsedMs` since). */
export async function liveSample(
  ctx: HttpContext,
  cur: Counters,
  prev: Counters,
  elapsedMs: number,
  top: number,
): Promise<Record<string, unknown>> {
  const alarm = ctx.alarm() ?? "";
  const connections = ctx.amqp.list();
  let channels = 0;
  for (const conn of connections) channels += conn.channelList().length;
  const sample = {
    ts: ctx.clock.nowMs(),
    rates: ratesBetween(prev, cur, elapsedMs),
    totals: cur,
    queues: queueDepths(ctx, top),
    groups: groupLags(ctx, top),
    connections: connections.length,
    channels,
    alarms: ["memory", "disk"].filter((resource) => alarm.includes(resource)),
    memory_bytes: process.memoryUsage.rss(),
    memory_held_bytes: ctx.memory.totalBytes,
    disk_free_bytes: null as number | null,
  };
  sample.disk_free_bytes = await diskFree(ctx.dataDir);
  return sample;
}
