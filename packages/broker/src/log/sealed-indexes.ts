// Which sealed segments keep their index in memory: the few used most recently. The others are
// loaded again from their files (or rebuilt from the segment) when a read needs them.

import type { Fs } from "../lib/index.ts";
import type { Segment } from "./segment.ts";
import type { SegmentIndex } from "./segment-index.ts";

export class SealedIndexes {
  private loaded: Segment[] = [];

  constructor(
    private readonly fs: Fs,
    private readonly intervalBytes: number,
    private readonly keep = 4,
  ) {}

  /** The segment's index, loading it if needed; marks it as most recently used. */
  async get(seg: Segment): Promise<SegmentIndex> {
    if (!seg.index) {
      const loaded = seg.retired ? null : await seg.readIndexFiles(this.fs, this.intervalBytes);
      seg.index = loaded?.index ?? (await seg.rebuildIndex(this.intervalBytes)).index;
    }
    this.touch(seg);
    return seg.index;
  }

  /** Records that `seg` (just sealed, or just read) has its index loaded; evicts the least recent. */
  touch(seg: Segment): void {
    this.loaded = [seg, ...this.loaded.filter((s) => s !== seg)];
    for (const evicted of this.loaded.splice(this.keep)) evicted.index = null;
  }

  forget(segments: readonly Segment[]): void {
    this.loaded = this.loaded.filter((s) => !segments.includes(s));
  }
}
