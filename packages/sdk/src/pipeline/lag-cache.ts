// A subscription's lag as the bus reports it: asked of the transport at most once per `ttlMs`, every call
// meanwhile (a metrics scrape, a dashboard, the OTel gauge) sharing the last answer or the one in flight.
// Invariant: at most one broker round trip per ttlMs per subscription; a failed answer is not kept.

import type { Clock } from "../lib/clock.ts";

/** How long a lag answer is reused: a metrics scrape may ask every second, several readers at once. */
export const LAG_TTL_MS = 1_000;

export class LagCache {
  private last: { atMs: number; value: Promise<number | undefined> } | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly ask: () => Promise<number | undefined>,
    private readonly ttlMs = LAG_TTL_MS,
  ) {}

  get(): Promise<number | undefined> {
    const now = this.clock.nowMs();
    if (this.last !== undefined && now - this.last.atMs < this.ttlMs) return this.last.value;
    const value = this.ask();
    const entry = { atMs: now, value };
    this.last = entry;
    // a failed answer is not kept: the next call asks again
    value.catch(() => {
      if (this.last === entry) this.last = undefined;
    });
    return value;
  }
}
