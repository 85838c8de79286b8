// Callers waiting for a saga to end (`finished(id)`): told at once when this process stores the end,
// else they see it by polling the store. Invariant: a waiter is removed when it resolves or gives up.

import type { Clock, TimerHandle } from "../lib/clock.ts";
import { isActive, type SagaState } from "./saga.ts";

export interface WaitOptions {
  /** Default 30 s. */
  readonly timeoutMs?: number;
  /** How often the store is read, for an end another orchestrator stores; default 250 ms. */
  readonly pollMs?: number;
}

export class EndWaiters {
  private readonly waiters = new Map<string, Set<(s: SagaState) => void>>();

  constructor(private readonly clock: Clock) {}

  /** Tells the waiters of `s` when it has ended. */
  notify(s: SagaState): void {
    if (!isActive(s)) for (const w of this.waiters.get(s.id) ?? []) w(s);
  }

  async wait(
    id: string,
    get: (id: string) => Promise<SagaState | undefined>,
    options: WaitOptions = {},
  ): Promise<SagaState> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    let resolveEnd: (s: SagaState) => void = () => {};
    const ended = new Promise<SagaState>((r) => {
      resolveEnd = r;
    });
    const set = this.waiters.get(id) ?? new Set();
    set.add(resolveEnd);
    this.waiters.set(id, set);
    const deadline = this.clock.nowMs() + timeoutMs;
    try {
      for (;;) {
        const s = await get(id);
        if (s === undefined) throw new TypeError(`sagas.finished: no saga "${id}"`);
        if (!isActive(s)) return s;
        const left = deadline - this.clock.nowMs();
        if (left <= 0) throw new Error(`saga ${id} is still ${s.status} after ${timeoutMs} ms`);
        let timer: TimerHandle | undefined;
        const tick = new Promise<undefined>((r) => {
          timer = this.clock.setTimer(Math.min(left, options.pollMs ?? 250), () => r(undefined));
        });
        const end = await Promise.race([ended, tick]);
        this.clock.clearTimer(timer);
        if (end !== undefined) return end;
      }
    } finally {
      set.delete(resolveEnd);
      if (set.size === 0) this.waiters.delete(id);
    }
  }
}
