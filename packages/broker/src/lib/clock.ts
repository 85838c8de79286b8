// Time as an injected dependency: the current time and every domain timer (TTL, x-expires, x-delay,
// heartbeats, group sessions, retention, fetch waits), so they are testable without sleeping.
// Invariant: a timer never fires before its duration has passed, however long it is. The fake clock tests
// use is testing/fake-clock.ts.

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
export function duration(ms: number): number {
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
