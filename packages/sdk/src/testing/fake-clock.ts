// A Clock that moves only when a test advances it, running the timers it passes in due order and letting
// the promise continuations each timer starts settle before the next one (the pipeline is async).
// Test support (exported as @spindle/sdk/testing); production code never imports it.

import type { Clock, TimerHandle } from "../lib/clock.ts";

interface FakeTimer extends TimerHandle {
  cancelled: boolean;
  readonly dueMs: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** Lets every queued microtask and I/O callback run (a promise chain several links long settles). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private timers: FakeTimer[] = [];
  private seq = 0;
  constructor(private ms = 1_700_000_000_000) {}

  nowMs(): number {
    return this.ms;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const t: FakeTimer = { cancelled: false, dueMs: this.ms + Math.max(0, ms || 0), seq: this.seq++, fn };
    this.timers.push(t);
    this.timers.sort((a, b) => a.dueMs - b.dueMs || a.seq - b.seq);
    return t;
  }

  clearTimer(timer: TimerHandle | undefined): void {
    if (timer === undefined) return;
    (timer as FakeTimer).cancelled = true;
    this.timers = this.timers.filter((t) => t !== timer);
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Due time of the next timer, if any. */
  get nextDueMs(): number | undefined {
    return this.timers[0]?.dueMs;
  }

  /**
   * Moves time forward by `ms`. Before each due timer and at the end, pending continuations settle, so
   * a timer set by a continuation of an earlier one fires too if it falls due within the advance.
   */
  async advance(ms: number): Promise<void> {
    const end = this.ms + ms;
    await settle();
    for (let t = this.timers[0]; t !== undefined && t.dueMs <= end; t = this.timers[0]) {
      this.timers.shift();
      this.ms = Math.max(this.ms, t.dueMs);
      t.cancelled = true;
      t.fn();
      await settle();
    }
    this.ms = Math.max(this.ms, end);
    await settle();
  }
}
