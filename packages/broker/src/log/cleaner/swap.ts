// Putting a cleaned copy in place of the segments it replaces, so that a crash at any point leaves either
// the old segments or the cleaned one, never neither (Kafka's .cleaned → .swap → .log protocol).
// Invariant: once `<base>.log.swap` is durable it is complete, and recovery finishes the swap it names.

import { join } from "node:path";
import type { Fs } from "../../lib/index.ts";
import { scanBatches } from "../scan.ts";
import {
  OFFSET_INDEX_SUFFIX,
  parseSegmentName,
  SEGMENT_SUFFIX,
  segmentName,
  TIME_INDEX_SUFFIX,
} from "../segment.ts";
import { CLEANED_SUFFIX } from "./clean-segments.ts";

export const SWAP_SUFFIX = ".swap";

/** A step of the swap, for tests that crash between steps. */
export type SwapStep = "copied" | "committed" | "replaced";

const swapPath = (dir: string, base: number) => join(dir, segmentName(base, SEGMENT_SUFFIX + SWAP_SUFFIX));

/** The commit point: the fdatasynced copy is renamed to `.swap` and the directory fsynced. */
export async function commitSwap(fs: Fs, dir: string, cleanedPath: string, base: number): Promise<void> {
  await fs.rename(cleanedPath, swapPath(dir, base));
  await fs.syncDir(dir);
}

/**
 * Removes the replaced segments' files (those with base offsets in [base, end)) and renames the swap file
 * to `<base>.log`, which atomically replaces the first of them; then fsyncs the directory.
 */
export async function finishSwap(
  fs: Fs,
  dir: string,
  base: number,
  replacedBases: readonly number[],
): Promise<void> {
  for (const b of replacedBases) {
    for (const suffix of [OFFSET_INDEX_SUFFIX, TIME_INDEX_SUFFIX, ...(b === base ? [] : [SEGMENT_SUFFIX])]) {
      const path = join(dir, segmentName(b, suffix));
      if (await fs.exists(path)) await fs.unlink(path);
    }
  }
  await fs.rename(swapPath(dir, base), join(dir, segmentName(base, SEGMENT_SUFFIX)));
  await fs.syncDir(dir);
}

/**
 * At open, before segments are listed: a `.cleaned` copy was never committed and is removed; a `.swap`
 * file was, and its swap is finished (it covers its offsets densely, so the segments it replaces are those
 * whose base offsets fall inside its range). Returns how many swaps were finished.
 */
export async function recoverSwaps(fs: Fs, dir: string, names: readonly string[]): Promise<number> {
  let finished = 0;
  for (const name of names) {
    if (name.endsWith(SEGMENT_SUFFIX + CLEANED_SUFFIX)) await fs.unlink(join(dir, name));
  }
  for (const name of names) {
    if (!name.endsWith(SEGMENT_SUFFIX + SWAP_SUFFIX)) continue;
    const base = parseSegmentName(name.slice(0, -SWAP_SUFFIX.length));
    if (base === null) continue;
    const end = await swapEnd(fs, join(dir, name), base);
    const replaced = names
      .map(parseSegmentName)
      .filter((b): b is number => b !== null && b >= base && b < end);
    await finishSwap(fs, dir, base, replaced.includes(base) ? replaced : [base, ...replaced]);
    finished++;
  }
  if (finished > 0 || names.some((n) => n.endsWith(CLEANED_SUFFIX))) await fs.syncDir(dir);
  return finished;
}

/** The offset after the swap file's last batch (it was fdatasynced whole before it was named .swap). */
async function swapEnd(fs: Fs, path: string, base: number): Promise<number> {
  const fh = await fs.open(path, "r");
  try {
    const r = await scanBatches(
      fh,
      { from: 0, to: await fh.size(), expectedOffset: base, verifyCrc: false },
      () => true,
    );
    return r.nextOffset;
  } finally {
    await fh.close();
  }
}
