// Rate-limiting a warning to once per burst of the same event, so a flood of refusals or EMFILEs logs a line,
// not a line per event. Invariant: hit() is true for the first event after a quiet gap, false for the rest.

import type { Clock } from "./clock.ts";

/** A burst ends after this long without the event. */
export const BURST_GAP_MS = 10_000;

export class Burst {
  private lastMs = Number.NEGATIVE_INFINITY;
  private count = 0;
  /** events in the burst that ended when the latest hit() began a new one */
  private previous = 0;

  constructor(
    private readonly clock: Clock,
    private readonly gapMs = BURST_GAP_MS,
  ) {}

  /** Records one event; true when it starts a new burst (log it then). */
  hit(): boolean {
    const now = this.clock.nowMs();
    const fresh = now - this.lastMs > this.gapMs;
    this.lastMs = now;
    if (fresh) {
      this.previous = this.count;
      this.count = 0;
    }
    this.count++;
    return fresh;
  }

  /** How many events the previous burst had (reported with the first line of the next). */
  get previousCount(): number {
    return this.previous;
  }
}

/** EMFILE (this process) or ENFILE (the whole system): out of file descriptors. */
export function isOutOfFds(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === "EMFILE" || code === "ENFILE";
}
