// The cleaner's checkpoint: the first offset it has not cleaned yet (Kafka's cleaner-offset-checkpoint).
// Invariant: written durably only after the swap it describes; a lost checkpoint only means cleaning again.

import { join } from "node:path";
import { type Fs, writeFileDurably } from "../../lib/index.ts";
import { encodeOffset, readOffsetFile } from "../offset-file.ts";

const FILE = "cleaner-checkpoint";

export function readCleanerCheckpoint(fs: Fs, dir: string): Promise<number | null> {
  return readOffsetFile(fs, join(dir, FILE));
}

export function writeCleanerCheckpoint(fs: Fs, dir: string, offset: number): Promise<void> {
  return writeFileDurably(fs, join(dir, FILE), encodeOffset(offset));
}
