// WireWriter: a growable big-endian byte sink for AMQP primitive domains.
// Invariant: lengths are validated before writing (shortstr <= 255 bytes), so no output is ever truncated.
export class WireWriter {
  private buf: Buffer;
  length = 0;

  constructor(initialBytes = 256) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

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
    this.buf.writeUInt8(v, this.reserve(1));
  }
  i8(v: number): void {
    this.buf.writeInt8(v, this.reserve(1));
  }
  u16(v: number): void {
    this.buf.writeUInt16BE(v, this.reserve(2));
  }
  i16(v: number): void {
    this.buf.writeInt16BE(v, this.reserve(2));
  }
  u32(v: number): void {
    this.buf.writeUInt32BE(v, this.reserve(4));
  }
  i32(v: number): void {
    this.buf.writeInt32BE(v, this.reserve(4));
  }
  u64(v: bigint): void {
    this.buf.writeBigUInt64BE(v, this.reserve(8));
  }
  i64(v: bigint): void {
    this.buf.writeBigInt64BE(v, this.reserve(8));
  }
  f32(v: number): void {
    this.buf.writeFloatBE(v, this.reserve(4));
  }
  f64(v: number): void {
    this.buf.writeDoubleBE(v, this.reserve(8));
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.reserve(b.length));
  }

  shortstr(s: string): void {
    const n = Buffer.byteLength(s, "utf8");
    if (n > 255) throw new RangeError(`shortstr is ${n} bytes, the limit is 255: ${s.slice(0, 40)}…`);
    this.u8(n);
    this.buf.write(s, this.reserve(n), n, "utf8");
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
    this.buf.write(s, this.reserve(n), n, "utf8");
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
