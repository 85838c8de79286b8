// Checkpoints in process memory, for read models that live in memory (tests, examples). Invariant:
// transactions run one at a time — but nothing is rolled back: a batch that fails halfway keeps the
// writes it made, so an `apply` used with this store must tolerate being run again.

import type { ProjectionStore } from "./projection.ts";

export class MemoryProjectionStore implements ProjectionStore<undefined> {
  private readonly checkpoints = new Map<string, string>();
  private tail: Promise<unknown> = Promise.resolve();

  transaction<T>(fn: (tx: undefined) => Promise<T>): Promise<T> {
    const run = this.tail.then(() => fn(undefined));
    this.tail = run.catch(() => {});
    return run;
  }

  async loadCheckpoint(name: string): Promise<string | undefined> {
    return this.checkpoints.get(name);
  }

  async saveCheckpoint(_tx: undefined, name: string, checkpoint: string): Promise<void> {
    this.checkpoints.set(name, checkpoint);
  }

  async clearCheckpoint(_tx: undefined, name: string): Promise<void> {
    this.checkpoints.delete(name);
  }

  async close(): Promise<void> {}
}

export function memoryProjectionStore(): MemoryProjectionStore {
  return new MemoryProjectionStore();
}
