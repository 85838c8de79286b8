// The end offset a log had at its last clean close: recovery compares it with what it finds on disk.
// Invariant: it never claims more than was durable (written after the closing flush), so a lower end is a loss.

import { join } from "node:path";
import { crc32c, type Fs } from "../lib/index.ts";

const FILE = "clean-end-offset";

/** The offset recorded at the last clean close, or null when none is readable. */
export async function readCleanEnd(fs: Fs, dir: string): Promise<number | null> {
  const path = join(dir, FILE);
  if (!(await fs.exists(path))) return null;
  const buf = await fs.readFile(path);
  if (buf.length !== 12 || crc32c(buf.subarray(0, 8)) !== buf.readUInt32BE(8)) return null;
  return buf.readDoubleBE(0);
}

/**
 * Records `offset` after a clean close. Not fsynced: a write lost or torn by a power cut only leaves an
 * older value or a bad CRC (ignored), and an older value is still at most what was durable.
 */
export async function writeCleanEnd(fs: Fs, dir: string, offset: number): Promise<void> {
  const buf = Buffer.alloc(12);
  buf.writeDoubleBE(offset, 0);
  buf.writeUInt32BE(crc32c(buf.subarray(0, 8)), 8);
  const fh = await fs.open(join(dir, FILE), "create");
  try {
    await fh.write(buf, 0);
  } finally {
    await fh.close();
  }
}
