// Time as an injected dependency: the current time and every domain timer (TTL, x-expires, x-delay,
// heartbeats, group sessions, retention, fetch waits), so they are testable without sleeping.
// Invariant: a timer never fires before its duration has passed, however long it is; the fake clock
// only moves when a test advances it, and then runs the timers it passes in due order.

/** A pending timer, cancelled with `Clock.clearTimer`. */
export interface TimerHandle {
  readonly cancelled: boolean;
}

export interface Clock {
  nowMs(): number;
  /** Calls `fn` once, `ms` from now (never earlier). Any length is fine; Infinity never fires. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  /** Calls `fn` every `ms` until cleared. */
  setRepeating(ms: number, fn: () => void): TimerHandle;
  /** Cancels a timer; undefined and already fired or cancelled timers are ignored. */
  clearTimer(timer: TimerHandle | undefined): void;
}

/** The longest delay setTimeout takes: Node fires a longer one after 1 ms (TimeoutOverflowWarning). */
export const TIMER_MS_MAX = 2 ** 31 - 1;

/** A negative or NaN duration means "now", as setTimeout treats it. */
function duration(ms: number): number {
  return Number.isNaN(ms) ? 0 : Math.max(ms, 0);
}

/**
 * A setTimeout that waits out a duration longer than TIMER_MS_MAX in chunks of at most that. Each chunk
 * waits at least its length, so the whole never fires early; wall-clock jumps do not move it (as
 * setTimeout). Unref'd: a domain timer never holds the process open (listeners and sockets do).
 */
class SystemTimer implements TimerHandle {
  cancelled = false;
  private timeout: NodeJS.Timeout | undefined;
  private leftMs: number;

  constructor(
    ms: number,
    private readonly fn: () => void,
    private readonly repeatMs: number | null,
  ) {
    this.leftMs = duration(ms);
    this.arm();
  }

  private arm(): void {
    const step = Math.min(this.leftMs, TIMER_MS_MAX);
    this.leftMs -= step;
    this.timeout = setTimeout(() => this.fired(), step);
    this.timeout.unref();
  }

  private fired(): void {
    if (this.cancelled) return;
    if (this.leftMs > 0) {
      this.arm();
      return;
    }
    if (this.repeatMs === null) this.cancelled = true;
    else {
      this.leftMs = this.repeatMs;
      this.arm();
    }
    this.fn();
  }

  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.timeout);
    this.timeout = undefined;
  }
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  setTimer: (ms, fn) => new SystemTimer(ms, fn, null),
  // a zero period would spin: at least 1 ms, as setInterval
  setRepeating: (ms, fn) => new SystemTimer(ms, fn, Math.max(1, duration(ms))),
  clearTimer: (t) => (t as SystemTimer | undefined)?.cancel(),
};

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
