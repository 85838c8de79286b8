// FrameReader: cuts an incoming byte stream, delivered in arbitrary chunks, into raw AMQP frames.
// Invariant: a frame's declared size is checked against frameMax before any byte of it is buffered or copied.
import { frameError } from "./codec-error.ts";
import { FRAME_HEADER_BYTES, FRAME_OVERHEAD_BYTES, isKnownFrameType, type RawFrame } from "./frame.ts";
import { FRAME_END, FRAME_MIN_SIZE } from "./generated/constants.ts";

export class FrameReader {
  private chunks: Buffer[] = [];
  /** bytes of chunks[0] already cut into frames */
  private headAt = 0;
  private buffered = 0;
  private failed: Error | undefined;

  /** frameMax counts the whole frame, header and end byte included (as in connection.tune). Until tune
   *  completes a peer may only send frames up to frame-min-size; raise it with `frameMax = n` after. */
  constructor(public frameMax: number = FRAME_MIN_SIZE) {}

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds a chunk and yields every complete frame (add + next in a loop). */
  *push(chunk: Buffer): Generator<RawFrame, void, undefined> {
    this.add(chunk);
    for (let frame = this.next(); frame !== undefined; frame = this.next()) yield frame;
  }

  /** Adds a received chunk; take the frames with next(). */
  add(chunk: Buffer): void {
    if (this.failed !== undefined) throw this.failed;
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete frame, or undefined until more bytes arrive. Frames are cut one at a time, so a
   *  frameMax change made while handling one frame applies to the next. After an error it stays failed. */
  next(): RawFrame | undefined {
    if (this.failed !== undefined) throw this.failed;
    try {
      return this.cut();
    } catch (err) {
      this.failed = err as Error;
      this.chunks = [];
      this.buffered = 0;
      throw err;
    }
  }

  private cut(): RawFrame | undefined {
    if (this.buffered < FRAME_HEADER_BYTES) return undefined;
    let head = this.chunks[0] as Buffer;
    let at = this.headAt;
    if (head.length - at < FRAME_HEADER_BYTES) {
      head = this.peekHeader();
      at = 0;
    }
    const type = head[at] as number;
    const channel = head.readUInt16BE(at + 1);
    const size = head.readUInt32BE(at + 3);
    if (!isKnownFrameType(type)) throw frameError(`unknown frame type ${type}`);
    if (this.frameMax !== 0 && size > this.frameMax - FRAME_OVERHEAD_BYTES) {
      throw frameError(`frame of ${size} payload bytes exceeds frame_max ${this.frameMax}`);
    }
    const total = size + FRAME_OVERHEAD_BYTES;
    if (this.buffered < total) return undefined;
    const { buf, from } = this.take(total);
    const end = buf[from + total - 1] as number;
    if (end !== FRAME_END) {
      throw frameError(
        `frame end byte is 0x${end.toString(16)}, expected 0xce (type ${type}, channel ${channel})`,
      );
    }
    return { type, channel, payload: buf.subarray(from + FRAME_HEADER_BYTES, from + total - 1) };
  }

  /** The frame header when it spans chunks (a copy of at most 64 bytes). */
  private peekHeader(): Buffer {
    const first = (this.chunks[0] as Buffer).subarray(this.headAt);
    return Buffer.concat([first, ...this.chunks.slice(1)], Math.min(this.buffered, 64));
  }

  /** Removes exactly n buffered bytes (n <= buffered): a place in a received chunk when the frame lies
   *  within one, else a copy. */
  private take(n: number): { buf: Buffer; from: number } {
    const first = this.chunks[0] as Buffer;
    this.buffered -= n;
    if (first.length - this.headAt >= n) {
      const from = this.headAt;
      this.headAt += n;
      if (this.headAt === first.length) {
        this.chunks.shift();
        this.headAt = 0;
      }
      return { buf: first, from };
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0] as Buffer;
      const k = Math.min(c.length - this.headAt, n - at);
      c.copy(out, at, this.headAt, this.headAt + k);
      at += k;
      this.headAt += k;
      if (this.headAt === c.length) {
        this.chunks.shift();
        this.headAt = 0;
      }
    }
    return { buf: out, from: 0 };
  }
}
