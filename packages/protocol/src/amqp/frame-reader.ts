// FrameReader: cuts an incoming byte stream, delivered in arbitrary chunks, into raw AMQP frames.
// Invariant: a frame's declared size is checked against frameMax before any byte of it is buffered or copied.
import { frameError } from "./codec-error.ts";
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, isKnownFrameType, type RawFrame } from "./frame.ts";
import { FRAME_END, FRAME_MIN_SIZE } from "./generated/constants.ts";

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed: Error | undefined;

  /** frameMax counts the whole frame, header and end byte included (as in connection.tune). Until tune
   *  completes a peer may only send frames up to frame-min-size; raise it with `frameMax = n` after. */
  constructor(public frameMax: number = FRAME_MIN_SIZE) {}

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds a chunk and yields every complete frame. Frames are cut lazily, so a frameMax change made
   *  while handling one frame applies to the next. After an error the reader stays failed. */
  *push(chunk: Buffer): Generator<RawFrame, void, undefined> {
    if (this.failed !== undefined) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    try {
      for (let frame = this.next(); frame !== undefined; frame = this.next()) yield frame;
    } catch (err) {
      this.failed = err as Error;
      this.chunks = [];
      this.buffered = 0;
      throw err;
    }
  }

  private next(): RawFrame | undefined {
    if (this.buffered < FRAME_HEADER_BYTES) return undefined;
    const head = this.peek(FRAME_HEADER_BYTES);
    const type = head.readUInt8(0);
    const channel = head.readUInt16BE(1);
    const size = head.readUInt32BE(3);
    if (!isKnownFrameType(type)) throw frameError(`unknown frame type ${type}`);
    if (this.frameMax !== 0 && size > this.frameMax - FRAME_OVERHEAD_BYTES) {
      throw frameError(`frame of ${size} payload bytes exceeds frame_max ${this.frameMax}`);
    }
    const total = size + FRAME_OVERHEAD_BYTES;
    if (this.buffered < total) return undefined;
    const frame = this.take(total);
    const end = frame.readUInt8(total - 1);
    if (end !== FRAME_END) {
      throw frameError(
        `frame end byte is 0x${end.toString(16)}, expected 0xce (type ${type}, channel ${channel})`,
      );
    }
    return { type, channel, payload: frame.subarray(FRAME_HEADER_BYTES, total - 1) };
  }

  /** The first n buffered bytes; copies only when they span chunks (n is small: a frame header). */
  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return first;
    return Buffer.concat(this.chunks, Math.min(this.buffered, 64)).subarray(0, n);
  }

  /** Removes and returns exactly n buffered bytes (n <= buffered), without copying when possible. */
  private take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const c = this.chunks[0] as Buffer;
        const k = Math.min(c.length, n - at);
        c.copy(out, at, 0, k);
        at += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }
}
