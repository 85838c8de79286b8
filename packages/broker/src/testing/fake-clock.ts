// A Clock that only moves when a test advances it, and then runs the timers it passes in due order.
// Test support only: not built into dist/ and not exported by the package.

import { type Clock, duration, type TimerHandle } from "../lib/clock.ts";

interface FakeTimer extends TimerHandle {
  cancelled: boolean;
  dueMs: number;
  readonly repeatMs: number | null;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  private readonly timers: FakeTimer[] = [];
  constructor(private ms = 1_700_000_000_000) {}

  nowMs(): number {
    return this.ms;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    return this.add(duration(ms), fn, null);
  }

  setRepeating(ms: number, fn: () => void): TimerHandle {
    const period = Math.max(1, duration(ms));
    return this.add(period, fn, period);
  }

  clearTimer(timer: TimerHandle | undefined): void {
    if (timer === undefined || timer.cancelled) return;
    const t = timer as FakeTimer;
    t.cancelled = true;
    const at = this.timers.indexOf(t);
    if (at >= 0) this.timers.splice(at, 1);
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Moves time forward by `ms`, running every timer due by then, one at a time in due order (ties in
   * the order they were set), each with the clock at its due time. Timers set by a callback run too if
   * they fall due within the advance.
   */
  advance(ms: number): void {
    const end = this.ms + ms;
    for (let t = this.timers[0]; t !== undefined && t.dueMs <= end; t = this.timers[0]) {
      this.timers.shift();
      this.ms = Math.max(this.ms, t.dueMs);
      if (t.repeatMs === null) t.cancelled = true;
      else this.insert(t, this.ms + t.repeatMs);
      t.fn();
    }
    this.ms = Math.max(this.ms, end);
  }

  private add(ms: number, fn: () => void, repeatMs: number | null): FakeTimer {
    const t: FakeTimer = { cancelled: false, dueMs: 0, repeatMs, fn };
    this.insert(t, this.ms + ms);
    return t;
  }

  /** Keeps `timers` sorted by due time, then by the order they were (re)armed. */
  private insert(t: FakeTimer, dueMs: number): void {
    t.dueMs = dueMs;
    let i = this.timers.length;
    while (i > 0 && (this.timers[i - 1] as FakeTimer).dueMs > dueMs) i--;
    this.timers.splice(i, 0, t);
  }
}
