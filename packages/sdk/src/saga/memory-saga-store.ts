// Saga state and timeouts in process memory (tests, examples, one process). Invariant: the same
// version check as the database stores; states are copied in and out, so a caller holding a state
// cannot change the stored one.

import type { SagaState } from "./saga.ts";
import { queryLimit, type SagaQuery, type SagaStore, type SagaTimeout } from "./saga-store.ts";

const copy = <T>(v: T): T => structuredClone(v);
const active = (s: SagaState): boolean => s.status === "running" || s.status === "compensating";

export class MemorySagaStore implements SagaStore {
  private readonly sagas = new Map<string, SagaState>();
  private readonly timeouts = new Map<string, { t: SagaTimeout; done: boolean }>();

  async create(state: SagaState): Promise<boolean> {
    if (this.sagas.has(state.id)) return false;
    this.sagas.set(state.id, copy(state));
    return true;
  }

  async get(id: string): Promise<SagaState | undefined> {
    const s = this.sagas.get(id);
    return s && copy(s);
  }

  async update(next: SagaState): Promise<boolean> {
    const s = this.sagas.get(next.id);
    if (s === undefined || s.version !== next.version - 1) return false;
    this.sagas.set(next.id, copy(next));
    return true;
  }

  async list(q: SagaQuery = {}): Promise<SagaState[]> {
    const limit = queryLimit(q);
    return [...this.sagas.values()]
      .filter(
        (s) =>
          (q.status === undefined || s.status === q.status) && (q.name === undefined || s.name === q.name),
      )
      .filter((s) => q.afterId === undefined || s.id > q.afterId)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit)
      .map(copy);
  }

  async due(nowMs: number, limit: number): Promise<SagaState[]> {
    return [...this.sagas.values()]
      .filter((s) => active(s) && s.dueAt !== undefined && s.dueAt <= nowMs)
      .sort((a, b) => (a.dueAt ?? 0) - (b.dueAt ?? 0))
      .slice(0, limit)
      .map(copy);
  }

  async scheduleTimeout(t: SagaTimeout): Promise<boolean> {
    if (this.timeouts.has(t.id)) return false;
    this.timeouts.set(t.id, { t: copy(t), done: false });
    return true;
  }

  async cancelTimeout(id: string): Promise<boolean> {
    return this.finish(id);
  }

  async completeTimeout(id: string): Promise<boolean> {
    return this.finish(id);
  }

  private finish(id: string): boolean {
    const e = this.timeouts.get(id);
    if (e === undefined || e.done) return false;
    e.done = true;
    return true;
  }

  async timeoutPending(id: string): Promise<boolean> {
    return this.timeouts.get(id)?.done === false;
  }

  async dueTimeouts(nowMs: number, limit: number): Promise<SagaTimeout[]> {
    return [...this.timeouts.values()]
      .filter((e) => !e.done && e.t.dueAt <= nowMs)
      .map((e) => e.t)
      .sort((a, b) => a.dueAt - b.dueAt)
      .slice(0, limit)
      .map(copy);
  }

  async purgeTimeouts(beforeMs: number): Promise<number> {
    let n = 0;
    for (const [id, e] of this.timeouts) {
      if (e.done && e.t.dueAt < beforeMs && this.timeouts.delete(id)) n++;
    }
    return n;
  }

  async close(): Promise<void> {}
}

/** Saga state in process memory: lost with the process (tests, examples). */
export function memorySagaStore(): MemorySagaStore {
  return new MemorySagaStore();
}
