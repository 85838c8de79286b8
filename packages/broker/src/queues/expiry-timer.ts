// The one timer a queue keeps for TTL: due when the message at its head expires. Invariant: at most one
// timer is armed, and it is the earliest asked for since it last fired (a later expiry never pushes it back).

import type { Clock, TimerHandle } from "../lib/index.ts";

export class ExpiryTimer {
  private timer: TimerHandle | undefined;
  private dueAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    private readonly onDue: () => void,
  ) {}

  /** Fires onDue just after `at` (ms), unless a timer for an earlier time is already armed. */
  arm(at: number): void {
    if (at === Number.POSITIVE_INFINITY || (this.timer !== undefined && this.dueAt <= at)) return;
    this.clock.clearTimer(this.timer);
    this.dueAt = at;
    this.timer = this.clock.setTimer(Math.max(0, at - this.clock.nowMs()) + 1, () => {
      this.timer = undefined;
      this.dueAt = Number.POSITIVE_INFINITY;
      this.onDue();
    });
  }

  clear(): void {
    this.clock.clearTimer(this.timer);
  }
}
