// Time as an injected dependency for every delay, timeout, backoff and window in the SDK, so policies are
// tested on fake time (testing/fake-clock.ts). Invariant: a timer never fires before its duration.

/** A pending timer, cancelled with `Clock.clearTimer`. */
export interface TimerHandle {
  readonly cancelled: boolean;
}

export interface Clock {
  nowMs(): number;
  /** Calls `fn` once, `ms` from now (never earlier). */
  setTimer(ms: number, fn: () => void): TimerHandle;
  /** Cancels a timer; undefined and already fired timers are ignored. */
  clearTimer(timer: TimerHandle | undefined): void;
}

/** The longest delay setTimeout takes: Node fires a longer one after 1 ms. */
const TIMER_MS_MAX = 2 ** 31 - 1;

class SystemTimer implements TimerHandle {
  cancelled = false;
  private timeout: NodeJS.Timeout | undefined;
  private leftMs: number;

  constructor(
    ms: number,
    private readonly fn: () => void,
  ) {
    this.leftMs = Number.isNaN(ms) ? 0 : Math.max(ms, 0);
    this.arm();
  }

  private arm(): void {
    const step = Math.min(this.leftMs, TIMER_MS_MAX);
    this.leftMs -= step;
    // unref'd: a pending retry or timeout never holds a process open; connections and subscriptions do
    this.timeout = setTimeout(() => this.fired(), step).unref();
  }

  private fired(): void {
    if (this.cancelled) return;
    if (this.leftMs > 0) {
      this.arm();
      return;
    }
    this.cancelled = true;
    this.fn();
  }

  cancel(): void {
    this.cancelled = true;
    clearTimeout(this.timeout);
  }
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  setTimer: (ms, fn) => new SystemTimer(ms, fn),
  clearTimer: (t) => (t as SystemTimer | undefined)?.cancel(),
};

/** Resolves after `ms` on `clock`, or at once when `signal` aborts (then with false). */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clock.clearTimer(timer);
      resolve(false);
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
