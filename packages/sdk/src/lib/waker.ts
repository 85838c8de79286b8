// A loop's wake-up signal: something may have changed (a NOTIFY, a commit, close), so look again. Invariant:
// a wake that arrives while the loop is busy is not lost — the next wait returns at once.

import type { Clock, TimerHandle } from "./clock.ts";

export class Waker {
  private dirty = true;
  private waiter: (() => void) | undefined;

  constructor(private readonly clock: Clock) {}

  wake(): void {
    this.dirty = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Call before looking, so that wakes from now on count. */
  clear(): void {
    this.dirty = false;
  }

  /** Resolves on the next wake (at once if one came since `clear`) or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.dirty) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      this.waiter = () => {
        this.clock.clearTimer(timer);
        resolve();
      };
      timer = this.clock.setTimer(ms, () => {
        this.waiter = undefined;
        resolve();
      });
    });
  }
}
