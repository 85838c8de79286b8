// When a compacted log is next due for its kept tombstones and markers alone: the time the newest one the
// last cleaning kept passes delete.retention.ms (Kafka's KIP-534), in a small file beside the checkpoint so
// that a restart does not forget it (a tombstone then stayed until new dirt started a cleaning).
// Invariant: a missing or damaged file reads as "none due" (Infinity), the state before any cleaning.

import { join } from "node:path";
import { type Fs, writeFileDurably } from "../../lib/index.ts";
import { encodeOffset, readOffsetFile } from "../offset-file.ts";

const FILE = "cleaner-tombstones-due";

/** The due time in ms, Infinity when none is known. */
export async function readTombstonesDue(fs: Fs, dir: string): Promise<number> {
  return (await readOffsetFile(fs, join(dir, FILE))) ?? Number.POSITIVE_INFINITY;
}

/** Records `dueMs` (Infinity: nothing kept) after the swaps of the cleaning that computed it. */
export function writeTombstonesDue(fs: Fs, dir: string, dueMs: number): Promise<void> {
  return writeFileDurably(fs, join(dir, FILE), encodeOffset(dueMs));
}
