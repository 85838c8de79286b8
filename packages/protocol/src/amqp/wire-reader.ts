// WireReader: bounds-checked big-endian reads of AMQP primitive domains from one frame payload.
// Invariant: a read never goes past the end of its buffer; running short throws 502 SYNTAX_ERROR.
import { syntaxError } from "./codec-error.ts";

export class WireReader {
  offset = 0;

  /** `what` names the structure being read, so that errors say where the bytes ran out. */
  constructor(
    readonly buf: Buffer,
    public what: string,
  ) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number): number {
    const at = this.offset;
    if (n > this.buf.length - at) {
      throw syntaxError(
        `truncated ${this.what}: need ${n} bytes at offset ${at}, have ${this.buf.length - at}`,
      );
    }
    this.offset = at + n;
    return at;
  }

  u8(): number {
    return this.buf.readUInt8(this.need(1));
  }
  i8(): number {
    return this.buf.readInt8(this.need(1));
  }
  u16(): number {
    return this.buf.readUInt16BE(this.need(2));
  }
  i16(): number {
    return this.buf.readInt16BE(this.need(2));
  }
  u32(): number {
    return this.buf.readUInt32BE(this.need(4));
  }
  i32(): number {
    return this.buf.readInt32BE(this.need(4));
  }
  u64(): bigint {
    return this.buf.readBigUInt64BE(this.need(8));
  }
  i64(): bigint {
    return this.buf.readBigInt64BE(this.need(8));
  }
  f32(): number {
    return this.buf.readFloatBE(this.need(4));
  }
  f64(): number {
    return this.buf.readDoubleBE(this.need(8));
  }

  /** A view (no copy) of the next n bytes. */
  bytes(n: number): Buffer {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }

  /** Steps over the next n bytes (bounds-checked like a read, without making a view of them). */
  skip(n: number): void {
    this.need(n);
  }

  /** shortstr: u8 length + bytes, decoded as UTF-8. */
  shortstr(): string {
    const n = this.u8();
    const at = this.need(n);
    return this.buf.toString("utf8", at, at + n);
  }

  /** longstr: u32 length + bytes, kept as bytes because SASL responses need not be text. */
  longstr(): Buffer {
    return this.bytes(this.u32());
  }

  /** Called after the last field: leftover bytes mean the peer and we disagree about the layout. */
  expectEnd(): void {
    if (this.offset !== this.buf.length) {
      throw syntaxError(`${this.what}: ${this.buf.length - this.offset} unexpected trailing bytes`);
    }
  }
}
