// Recycled buffers for large log reads (a consumer's fetch chunks). A fresh 10 MiB buffer per fetch cost a
// page fault on each of its pages when the read filled it, and its external memory drove V8's GC: together
// ~40% of the broker's CPU during a kcat consume.
// Invariant: a buffer is lent to one reader at a time. Giving it back is optional (one never given back is
// garbage-collected like any buffer), and only its borrower gives it back, once: a second give-back is ignored.

import { LIMITS } from "../lib/index.ts";

/** Reads smaller than this take a plain buffer: the cost is in the large ones. */
export const RECYCLED_BYTES_MIN = 512 * 1024;
/** Buffers are made in multiples of this, so that reads of nearly the same size share them. */
const GRAIN_BYTES = 1024 * 1024;

export class ReadBuffers {
  private free: ArrayBuffer[] = [];
  private freeBytes = 0;
  private readonly lent = new WeakSet<ArrayBuffer>();

  constructor(private readonly idleBytesMax: number) {}

  /** A buffer of exactly `length` bytes (contents undefined), lent until `giveBack`. */
  lend(length: number): Buffer {
    const i = this.free.findIndex((b) => b.byteLength >= length && b.byteLength <= 2 * length + GRAIN_BYTES);
    let ab: ArrayBuffer;
    if (i >= 0) {
      ab = this.free[i] as ArrayBuffer;
      this.free.splice(i, 1);
      this.freeBytes -= ab.byteLength;
    } else {
      ab = Buffer.allocUnsafeSlow(Math.ceil(length / GRAIN_BYTES) * GRAIN_BYTES).buffer as ArrayBuffer;
    }
    this.lent.add(ab);
    return Buffer.from(ab, 0, length);
  }

  /** Takes back the buffer behind `view` (any part of a lent buffer); nothing may use its bytes after. */
  giveBack(view: Buffer): void {
    const ab = view.buffer as ArrayBuffer;
    if (!this.lent.delete(ab)) return;
    if (this.freeBytes + ab.byteLength > this.idleBytesMax) return;
    this.free.push(ab);
    this.freeBytes += ab.byteLength;
  }

  /** bytes held for reuse */
  get idleBytes(): number {
    return this.freeBytes;
  }
}

/** One pool for the broker's logs: reads of every partition draw on it. */
export const readBuffers = new ReadBuffers(LIMITS.readBuffersIdleBytesMax);
