// Inbox store in process memory (tests, single-process apps): remembers up to `maxEntries` processed ids,
// forgetting the oldest first. Invariant: one run at a time per key; a failed run leaves no mark.

import type { InboxStore } from "../pipeline/inbox.ts";

export class MemoryInbox implements InboxStore {
  private readonly done = new Map<string, number>();
  private readonly running = new Map<string, Promise<unknown>>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async once(consumer: string, id: string, fn: (tx: unknown) => Promise<void>): Promise<boolean> {
    const key = `${consumer}\u0000${id}`;
    for (let r = this.running.get(key); r !== undefined; r = this.running.get(key)) await r.catch(() => {});
    if (this.done.has(key)) return false;
    const run = fn(undefined);
    this.running.set(key, run);
    try {
      await run;
      this.done.set(key, this.nowMs());
      if (this.done.size > this.maxEntries) this.done.delete(this.done.keys().next().value as string);
      return true;
    } finally {
      this.running.delete(key);
    }
  }

  async purge(beforeMs: number): Promise<number> {
    let n = 0;
    for (const [k, at] of this.done) {
      if (at < beforeMs) {
        this.done.delete(k);
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {}
}
