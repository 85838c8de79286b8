// Splits a Kafka TCP byte stream into request frames (int32 size prefix, then that many bytes).
// Invariant: a declared size is checked against the limit before any buffer of that size is allocated.

export type FrameResult = { frames: Buffer[]; error: string | null };

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received and not yet returned in a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** The declared size of the frame being received, once its size prefix is in; else null. */
  get partialFrameBytes(): number | null {
    return this.buffered >= 4 ? this.peekSize() : null;
  }

  /** Adds bytes; returns the complete frames (without the size prefix), or an error that ends the connection. */
  push(chunk: Buffer): FrameResult {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    while (this.buffered >= 4) {
      const size = this.peekSize();
      if (size < 0 || size > this.maxFrameBytes) {
        return { frames, error: `request of ${size} bytes exceeds the limit of ${this.maxFrameBytes}` };
      }
      if (this.buffered < 4 + size) break;
      this.take(4);
      frames.push(this.take(size));
    }
    return { frames, error: null };
  }

  private peekSize(): number {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.concat(this.chunks, Math.min(this.buffered, 64)).subarray(0, 4);
    return head.readInt32BE(0);
  }

  /** Removes and returns the next n buffered bytes (n <= buffered). */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let done = 0;
    while (done < n) {
      const c = this.chunks[0] as Buffer;
      const k = Math.min(c.length, n - done);
      c.copy(out, done, 0, k);
      done += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
