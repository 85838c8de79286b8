// Visiting every intact batch of a sealed segment with an async step per batch, in bounded chunks.
// Invariant: batches reach `visit` in log order; damage is stepped over (and reported once) by the walk.

import type { LogDamage } from "../damage.ts";
import { walkBatches } from "../scan.ts";
import type { Segment } from "../segment.ts";

/** Batches are copied out of the walk in chunks of this size, then handed to `visit` one at a time. */
const CHUNK_BYTES = 4 << 20;

/** Calls `visit` for each batch of `seg` (offsets below `endOffset`) until it returns false. */
export async function eachBatch(
  damage: LogDamage,
  seg: Segment,
  endOffset: number,
  visit: (batch: Buffer) => Promise<boolean>,
): Promise<void> {
  let from = 0;
  let expected = seg.baseOffset;
  seg.fh.hold();
  try {
    while (from < seg.visibleBytes) {
      const chunk: Buffer[] = [];
      let bytes = 0;
      const opts = {
        from,
        to: seg.visibleBytes,
        expectedOffset: expected,
        endOffset,
        foundBy: "cleaner" as const,
      };
      const r = await walkBatches(seg, damage, opts, (_b, batch) => {
        chunk.push(Buffer.from(batch));
        bytes += batch.length;
        return bytes < CHUNK_BYTES;
      });
      for (const batch of chunk) if (!(await visit(batch))) return;
      if (r.problem !== null || r.end <= from) return;
      from = r.end;
      expected = r.nextOffset;
    }
  } finally {
    seg.fh.release();
  }
}
