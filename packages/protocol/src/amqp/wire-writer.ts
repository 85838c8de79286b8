// WireWriter: a growable big-endian byte sink for AMQP primitive domains.
// Invariant: lengths are validated before writing (shortstr <= 255 bytes), so no output is ever truncated.
export class WireWriter {
  private buf: Buffer;
  length = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Grows the buffer if needed and returns where n bytes go. Call it before reading `this.buf`,
   *  because growing replaces the buffer. */
  private reserve(n: number): number {
    const at = this.length;
    const end = at + n;
    if (end > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(end, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, at);
      this.buf = grown;
    }
    this.length = end;
    return at;
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
    this.buf.set(b, at);
  }

  shortstr(s: string): void {
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
}
