// Finding where intact batches resume after damage inside a segment file.
// Invariant: a resume point is a whole batch that passes its length, magic and CRC checks, whose offset lies
// in range and links to the offset of the batch after it (the offset field is outside the CRC).

import { BATCH_HEADER_BYTES, BATCH_LOG_OVERHEAD, readInt64 } from "@spindle/protocol";
import { type FileHandle, LIMITS } from "../lib/index.ts";
import { checkBatch } from "./scan.ts";

export interface ResumePoint {
  pos: number;
  baseOffset: number;
}

/** Where the search ends (file position `to`) and which offsets an intact batch there may have. */
export interface ResumeBounds {
  to: number;
  /** the lowest base offset the resume batch may have */
  minOffset: number;
  /** base offsets must be below it */
  maxBaseOffset: number;
  /** the offset at `to`, when known: a batch ending at `to` must end just before it */
  offsetAtEnd: number | null;
}

const CHUNK_BYTES = 1 << 20;

/** The size of the batch at `at` in `buf` (file position `base`) if its cheap checks pass, else 0. */
function plausible(buf: Buffer, at: number, base: number, b: ResumeBounds): number {
  if (buf.readInt8(at + 16) !== 2) return 0;
  const size = BATCH_LOG_OVERHEAD + buf.readInt32BE(at + 8);
  if (size < BATCH_HEADER_BYTES || size > LIMITS.batchBytesMax || base + at + size > b.to) return 0;
  const baseOffset = readInt64(buf, at);
  const ok = baseOffset >= b.minOffset && baseOffset < b.maxBaseOffset && buf.readInt32BE(at + 23) >= 0;
  return ok ? size : 0;
}

/** Reads `length` bytes at `pos`, or fewer at the end of the file. */
async function readAt(fh: FileHandle, pos: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  const got = await fh.read(buf, 0, length, pos);
  return buf.subarray(0, got);
}

/** The whole batch at `pos` passes its CRC, and its offsets link to what follows it. */
async function confirmed(fh: FileHandle, pos: number, size: number, b: ResumeBounds): Promise<boolean> {
  const bytes = await readAt(fh, pos, size + 8);
  if (bytes.length < size || checkBatch(bytes, 0, size, true) !== null) return false;
  const next = readInt64(bytes, 0) + bytes.readInt32BE(23) + 1;
  if (pos + size === b.to) return b.offsetAtEnd === null || next === b.offsetAtEnd;
  return bytes.length === size + 8 && readInt64(bytes, size) === next;
}

/**
 * The first position in (from, to) where an intact batch in bounds starts, or null when none does. `hint`
 * (where the damaged batch claims to end) is tried first: after a flipped byte inside a batch it is right,
 * and the byte-by-byte search is not needed. The CRC32C makes a false match as unlikely as an undetected
 * damaged batch; the link to the next batch's offset catches a flipped offset field.
 */
export async function findResume(
  fh: FileHandle,
  from: number,
  hint: number,
  b: ResumeBounds,
): Promise<ResumePoint | null> {
  if (hint > from && hint + BATCH_HEADER_BYTES <= b.to) {
    const head = await readAt(fh, hint, BATCH_HEADER_BYTES);
    const size = plausible(head, 0, hint, b);
    if (size > 0 && (await confirmed(fh, hint, size, b)))
      return { pos: hint, baseOffset: readInt64(head, 0) };
  }
  const buf = Buffer.allocUnsafe(CHUNK_BYTES + BATCH_HEADER_BYTES);
  for (let base = from + 1; base + BATCH_HEADER_BYTES <= b.to; base += CHUNK_BYTES) {
    const got = await fh.read(buf, 0, Math.min(buf.length, b.to - base), base);
    for (let at = 0; at < CHUNK_BYTES && at + BATCH_HEADER_BYTES <= got; at++) {
      const size = plausible(buf, at, base, b);
      if (size > 0 && (await confirmed(fh, base + at, size, b))) {
        return { pos: base + at, baseOffset: readInt64(buf, at) };
      }
    }
  }
  return null;
}
