// The log start offset checkpoint: offsets below it were deleted on request (DeleteRecords, acked queues).
// Invariant: written atomically and durably before the deletion it permits is acknowledged.

import { join } from "node:path";
import { type Fs, writeFileDurably } from "../lib/index.ts";
import { encodeOffset, readOffsetFile } from "./offset-file.ts";

const FILE = "log-start-offset";

export async function readStartOffset(fs: Fs, dir: string): Promise<number | null> {
  return readOffsetFile(fs, join(dir, FILE));
}

export async function writeStartOffset(fs: Fs, dir: string, offset: number): Promise<void> {
  await writeFileDurably(fs, join(dir, FILE), encodeOffset(offset));
}
