// The end offset a log had at its last clean close: recovery compares it with what it finds on disk.
// Invariant: it never claims more than was durable (written after the closing flush), so a lower end is a loss.

import { join } from "node:path";
import type { Fs } from "../lib/index.ts";
import { encodeOffset, readOffsetFile } from "./offset-file.ts";

const FILE = "clean-end-offset";

/** The offset recorded at the last clean close, or null when none is readable. */
export async function readCleanEnd(fs: Fs, dir: string): Promise<number | null> {
  return readOffsetFile(fs, join(dir, FILE));
}

/**
 * Records `offset` after a clean close. Not fsynced: a write lost or torn by a power cut only leaves an
 * older value or a bad CRC (ignored), and an older value is still at most what was durable.
 */
export async function writeCleanEnd(fs: Fs, dir: string, offset: number): Promise<void> {
  const buf = encodeOffset(offset);
  const fh = await fs.open(join(dir, FILE), "create");
  try {
    await fh.write(buf, 0);
  } finally {
    await fh.close();
  }
}
