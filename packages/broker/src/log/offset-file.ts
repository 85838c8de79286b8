// One offset in a small file with its CRC32C (f64 + u32): the log-start and clean-end checkpoints.
// Invariant: a file that is missing, of another size or failing its CRC reads as null, never as an offset.

import { crc32c, type Fs } from "../lib/index.ts";

export async function readOffsetFile(fs: Fs, path: string): Promise<number | null> {
  if (!(await fs.exists(path))) return null;
  const buf = await fs.readFile(path);
  if (buf.length !== 12 || crc32c(buf.subarray(0, 8)) !== buf.readUInt32BE(8)) return null;
  return buf.readDoubleBE(0);
}

export function encodeOffset(offset: number): Buffer {
  const buf = Buffer.alloc(12);
  buf.writeDoubleBE(offset, 0);
  buf.writeUInt32BE(crc32c(buf.subarray(0, 8)), 8);
  return buf;
}
