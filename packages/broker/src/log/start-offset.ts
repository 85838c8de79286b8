// The log start offset checkpoint: offsets below it were deleted on request (DeleteRecords, acked queues).
// Invariant: written atomically and durably before the deletion it permits is acknowledged.

import { join } from "node:path";
import { crc32c, type Fs, writeFileDurably } from "../lib/index.ts";

const FILE = "log-start-offset";

export async function readStartOffset(fs: Fs, dir: string): Promise<number | null> {
  const path = join(dir, FILE);
  if (!(await fs.exists(path))) return null;
  const buf = await fs.readFile(path);
  if (buf.length !== 12 || crc32c(buf.subarray(0, 8)) !== buf.readUInt32BE(8)) return null;
  return buf.readDoubleBE(0);
}

export async function writeStartOffset(fs: Fs, dir: string, offset: number): Promise<void> {
  const buf = Buffer.alloc(12);
  buf.writeDoubleBE(offset, 0);
  buf.writeUInt32BE(crc32c(buf.subarray(0, 8)), 8);
  await writeFileDurably(fs, join(dir, FILE), buf);
}
