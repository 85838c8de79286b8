// The live feed: one `/api/stream` connection for the whole console, and the recent samples it brought.
// Invariant: at most one stream is open; it reconnects (after a pause) until the session ends, and
// `samples` holds at most HISTORY samples, oldest first.

import { effect, signal } from "@preact/signals";
import { apiFetch } from "./api.ts";
import { authHeader } from "./session.ts";
import { serverEvents } from "./sse.ts";

const RATE_KEYS = [
  "published",
  "confirmed",
  "delivered",
  "acked",
  "redelivered",
  "dead_lettered",
  "produce_bytes",
  "fetch_bytes",
] as const;
export type RateKey = (typeof RATE_KEYS)[number];

export interface LiveQueue {
  readonly name: string;
  readonly messages: number;
  readonly messages_ready: number;
  readonly messages_unacknowledged: number;
  readonly consumers: number;
}

export interface LiveStats {
  readonly ts: number;
  readonly rates: Partial<Record<RateKey, number>>;
  readonly totals: Partial<Record<RateKey, number>>;
  readonly queues: readonly LiveQueue[];
  readonly groups: readonly { readonly group_id: string; readonly lag: number }[];
  readonly connections: number;
  readonly channels: number;
  readonly alarms: readonly string[];
  /** RSS */
  readonly memory_bytes: number;
  /** what the broker holds for clients (what the memory alarm follows) */
  readonly memory_held_bytes?: number;
  readonly disk_free_bytes: number | null;
}

/** five minutes at the stream's default one sample a second */
const HISTORY = 300;
const RETRY_MS = 3000;

export const samples = signal<readonly LiveStats[]>([]);
export const latest = signal<LiveStats | null>(null);
/** "connecting", "live", or why the stream is down */
export const liveState = signal<string>("connecting");

let running: AbortController | null = null;

effect(() => {
  const header = authHeader.value;
  running?.abort();
  running = null;
  samples.value = [];
  latest.value = null;
  if (header === null) return;
  const ctl = new AbortController();
  running = ctl;
  void follow(ctl.signal, header);
});

async function follow(abort: AbortSignal, header: string): Promise<void> {
  while (!abort.aborted) {
    try {
      liveState.value = "connecting";
      const res = await apiFetch(
        "stream",
        { signal: abort, headers: { accept: "text/event-stream" } },
        header,
      );
      liveState.value = "live";
      for await (const ev of serverEvents(res)) {
        if (ev.event === "stats") add(JSON.parse(ev.data) as LiveStats);
      }
      liveState.value = "the live stream ended";
    } catch (e) {
      if (abort.aborted) return;
      liveState.value = e instanceof Error ? e.message : String(e);
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

function add(s: LiveStats): void {
  latest.value = s;
  const next = samples.value.length >= HISTORY ? samples.value.slice(1) : samples.value.slice();
  next.push(s);
  samples.value = next;
}
