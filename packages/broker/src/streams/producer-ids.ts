// Producer ids for idempotent producers: handed out from blocks whose upper bound is stored durably first.
// Invariant: an id is never handed out twice, even across crashes (a crash skips the rest of a block).

import type { MetaStore } from "../meta/index.ts";

const KIND = "producer-ids";
const KEY = "next-block";
const BLOCK = 1000;

export class ProducerIds {
  private nextId = 0;
  private blockEnd = 0;
  private pending: Promise<void> | null = null;

  constructor(private readonly meta: MetaStore) {
    const stored = meta.get(KIND, KEY);
    this.nextId = typeof stored === "number" ? stored : 0;
    this.blockEnd = this.nextId;
  }

  async allocate(): Promise<number> {
    while (this.nextId >= this.blockEnd) {
      this.pending ??= this.reserve().finally(() => {
        this.pending = null;
      });
      await this.pending;
    }
    return this.nextId++;
  }

  private async reserve(): Promise<void> {
    const end = Math.max(this.blockEnd, this.nextId) + BLOCK;
    await this.meta.put(KIND, KEY, end);
    this.blockEnd = end;
  }
}
