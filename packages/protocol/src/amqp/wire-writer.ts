// WireWriter: a growable big-endian byte sink for AMQP primitive domains; take() hands out what was written
// so far and goes on writing in the same buffer (one allocation per buffer-full, not per hand-out).
// Invariant: lengths are validated before writing (shortstr <= 255 bytes), so no output is ever truncated;
// bytes handed out by take() or finish() are never written again, until the caller says with rewind() that
// it holds none of them.
/** The AMQP short string limit: 255 bytes of UTF-8 (not characters). */
export const SHORTSTR_BYTES_MAX = 255;

/** The longest prefix of `s` that fits in `maxBytes` of UTF-8, cut between characters (never inside a
 *  surrogate pair): for reply texts and other strings the broker builds from names a client chose. */
export function truncateUtf8(s: string, maxBytes: number = SHORTSTR_BYTES_MAX): string {
  if (s.length <= maxBytes / 3 || Buffer.byteLength(s, "utf8") <= maxBytes) return s;
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.codePointAt(i) as number;
    const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (bytes + n > maxBytes) break;
    bytes += n;
    i += c >= 0x10000 ? 2 : 1;
  }
  return s.slice(0, i);
}

export class WireWriter {
  private buf: Buffer;
  /** where the next byte goes (positions handed to patchU32 are in the current buffer) */
  length = 0;
  /** bytes before it were handed out by take() */
  private start = 0;

  constructor(private readonly initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written and not yet taken. */
  get pending(): number {
    return this.length - this.start;
  }

  /** Grows the buffer if needed and returns where n bytes go. Call it before reading `this.buf`,
   *  because growing replaces the buffer. */
  private reserve(n: number): number {
    let at = this.length;
    const end = at + n;
    if (end > this.buf.length) {
      if (at === this.start) {
        // nothing pending, so no position is held into the old buffer: start a fresh one
        this.buf = Buffer.allocUnsafe(Math.max(n, this.initialBytes));
        this.start = 0;
        at = 0;
      } else {
        const grown = Buffer.allocUnsafe(Math.max(end, this.buf.length * 2));
        this.buf.copy(grown, 0, 0, at);
        this.buf = grown;
      }
    }
    this.length = at + n;
    return at;
  }

  /** Makes room for n more bytes at once, so a run of small writes never grows the buffer twice. */
  ensure(n: number): void {
    this.length = this.reserve(n);
  }

  u8(v: number): void {
    const at = this.reserve(1);
    this.buf.writeUInt8(v, at);
  }
  i8(v: number): void {
    const at = this.reserve(1);
    this.buf.writeInt8(v, at);
  }
  u16(v: number): void {
    const at = this.reserve(2);
    this.buf.writeUInt16BE(v, at);
  }
  i16(v: number): void {
    const at = this.reserve(2);
    this.buf.writeInt16BE(v, at);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.buf.writeUInt32BE(v, at);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.buf.writeInt32BE(v, at);
  }
  u64(v: bigint): void {
    const at = this.reserve(8);
    this.buf.writeBigUInt64BE(v, at);
  }
  i64(v: bigint): void {
    const at = this.reserve(8);
    this.buf.writeBigInt64BE(v, at);
  }
  f32(v: number): void {
    const at = this.reserve(4);
    this.buf.writeFloatBE(v, at);
  }
  f64(v: number): void {
    const at = this.reserve(8);
    this.buf.writeDoubleBE(v, at);
  }

  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    if (b.length <= 16) for (let i = 0; i < b.length; i++) this.buf[at + i] = b[i] as number;
    else this.buf.set(b, at);
  }

  shortstr(s: string): void {
    // consumer tags, exchanges and routing keys on every delivery: ASCII ones are copied by a loop,
    // which costs less than the two native calls of the UTF-8 path
    if (s.length <= 64) {
      const at = this.reserve(1 + s.length);
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        this.buf[at + 1 + i] = c;
      }
      if (i === s.length) {
        this.buf[at] = i;
        return;
      }
      this.length = at;
    }
    const n = Buffer.byteLength(s, "utf8");
    if (n > 255) throw new RangeError(`shortstr is ${n} bytes, the limit is 255: ${s.slice(0, 40)}…`);
    this.u8(n);
    const at = this.reserve(n);
    this.buf.write(s, at, n, "utf8");
  }

  /** shortstr given as raw bytes (table keys that are not valid UTF-8). */
  shortbytes(b: Uint8Array): void {
    if (b.length > 255) throw new RangeError(`shortstr is ${b.length} bytes, the limit is 255`);
    this.u8(b.length);
    this.bytes(b);
  }

  longstr(b: Uint8Array): void {
    this.u32(b.length);
    this.bytes(b);
  }

  longstrUtf8(s: string): void {
    const n = Buffer.byteLength(s, "utf8");
    this.u32(n);
    const at = this.reserve(n);
    this.buf.write(s, at, n, "utf8");
  }

  /** Reserve a u32 to fill in later with patchU32 (length prefixes of tables and frames). */
  placeholderU32(): number {
    return this.reserve(4);
  }

  patchU32(at: number, v: number): void {
    this.buf.writeUInt32BE(v, at);
  }

  /** The bytes written so far, as a view; the writer must not be used afterwards. */
  finish(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** The bytes written since the last take(), as a view; writing goes on after them. */
  take(): Buffer {
    const out = this.buf.subarray(this.start, this.length);
    this.start = this.length;
    return out;
  }

  /** Where the next write starts, as an amount of pending bytes (stable across growth and a fresh buffer):
   *  for rollback(), so that a frame is written whole or not at all. */
  mark(): number {
    return this.pending;
  }

  /** Drops what was written after mark() returned `at` (a frame that failed half way). */
  rollback(at: number): void {
    if (at > this.pending) throw new RangeError(`rollback to ${at}, only ${this.pending} pending`);
    this.length = this.start + at;
  }

  /** The caller no longer holds any bytes take() handed out: writing starts over at the front of the same
   *  buffer, so a writer that is emptied often reuses one buffer instead of allocating the next. */
  rewind(): void {
    if (this.length !== this.start) throw new RangeError("rewind() with bytes not yet taken");
    this.length = 0;
    this.start = 0;
  }
}
