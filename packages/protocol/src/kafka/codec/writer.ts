// Growable writer for Kafka's primitive wire types; large byte blobs (record batches) are kept by reference.
// Invariant: bytes are written exactly once, in order, and every length prefix matches the bytes after it.

import type { TaggedField } from "./reader.ts";

export type { TaggedField } from "./reader.ts";

/** Blobs at least this large are appended by reference instead of being copied into the buffer. */
const BY_REFERENCE_BYTES = 16 * 1024;
const INT16_MAX = 0x7fff;

export class KafkaWriter {
  private buf: Buffer;
  private pos = 0;
  /** finished parts, when a large blob was appended by reference */
  private parts: Buffer[] | null = null;
  private partsBytes = 0;

  constructor(initialBytes = 512) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.partsBytes + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int8(v: number): void {
    this.ensure(1);
    this.pos = this.buf.writeInt8(v, this.pos);
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(v, this.pos);
  }

  uint16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeUInt16BE(v, this.pos);
  }

  int32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeInt32BE(v, this.pos);
  }

  uint32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeUInt32BE(v, this.pos);
  }

  int64(v: bigint): void {
    this.ensure(8);
    this.pos = this.buf.writeBigInt64BE(v, this.pos);
  }

  float64(v: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleBE(v, this.pos);
  }

  /** Accepts the 22-character base64url form that the reader returns. */
  uuid(v: string): void {
    if (v.length !== 22) throw new RangeError(`uuid must be 22 base64url characters, got ${v.length}`);
    this.ensure(16);
    const n = this.buf.write(v, this.pos, 16, "base64url");
    if (n !== 16) throw new RangeError(`uuid "${v}" is not base64url`);
    this.pos += 16;
  }

  uvarint(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`uvarint out of range: ${v}`);
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  private utf8(s: string, n: number): void {
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, "utf8");
  }

  string(s: string): void {
    const n = Buffer.byteLength(s, "utf8");
    if (n > INT16_MAX) throw new RangeError(`string of ${n} bytes exceeds int16 length`);
    this.int16(n);
    this.utf8(s, n);
  }

  nullableString(s: string | null): void {
    if (s === null) this.int16(-1);
    else this.string(s);
  }

  compactString(s: string): void {
    const n = Buffer.byteLength(s, "utf8");
    this.uvarint(n + 1);
    this.utf8(s, n);
  }

  compactNullableString(s: string | null): void {
    if (s === null) this.uvarint(0);
    else this.compactString(s);
  }

  /** Raw bytes with no prefix; large ones are kept by reference (the caller must not mutate them). */
  raw(b: Buffer): void {
    if (b.length >= BY_REFERENCE_BYTES) {
      this.parts ??= [];
      if (this.pos > 0) {
        this.parts.push(this.buf.subarray(0, this.pos));
        this.partsBytes += this.pos;
        this.buf = Buffer.allocUnsafe(Math.max(512, this.buf.length - this.pos));
        this.pos = 0;
      }
      this.parts.push(b);
      this.partsBytes += b.length;
      return;
    }
    this.ensure(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }

  bytes(b: Buffer): void {
    this.int32(b.length);
    this.raw(b);
  }

  nullableBytes(b: Buffer | null): void {
    if (b === null) this.int32(-1);
    else this.bytes(b);
  }

  compactBytes(b: Buffer): void {
    this.uvarint(b.length + 1);
    this.raw(b);
  }

  compactNullableBytes(b: Buffer | null): void {
    if (b === null) this.uvarint(0);
    else this.compactBytes(b);
  }

  arrayLength(compact: boolean, n: number | null): void {
    if (compact) this.uvarint(n === null ? 0 : n + 1);
    else this.int32(n === null ? -1 : n);
  }

  /** One contiguous buffer (copies once if large blobs were kept by reference). */
  finish(): Buffer {
    if (this.parts === null) return this.buf.subarray(0, this.pos);
    return Buffer.concat(this.finishParts(), this.length);
  }

  /** The output as parts for a vectored socket write, with no copy of large blobs. */
  finishParts(): Buffer[] {
    const out = this.parts === null ? [] : this.parts.slice();
    if (this.pos > 0) out.push(this.buf.subarray(0, this.pos));
    return out;
  }
}

export function writeArray<T>(
  w: KafkaWriter,
  compact: boolean,
  version: number,
  items: readonly T[] | null,
  elem: (w: KafkaWriter, version: number, v: T) => void,
): void {
  if (items === null) {
    w.arrayLength(compact, null);
    return;
  }
  w.arrayLength(compact, items.length);
  for (let i = 0; i < items.length; i++) elem(w, version, items[i]!);
}

/**
 * Writes a tagged-field section: known fields (already encoded) merged with unknown ones, in tag order.
 * Both lists may be undefined, which is the common case and writes a single zero byte.
 */
export function writeTaggedFields(
  w: KafkaWriter,
  known: TaggedField[] | undefined,
  unknown: readonly TaggedField[] | undefined,
): void {
  if (known === undefined && (unknown === undefined || unknown.length === 0)) {
    w.uvarint(0);
    return;
  }
  const all = [...(known ?? []), ...(unknown ?? [])].sort((a, b) => a.tag - b.tag);
  w.uvarint(all.length);
  for (const f of all) {
    w.uvarint(f.tag);
    w.uvarint(f.data.length);
    w.raw(f.data);
  }
}

/** Encodes one known tagged field's value on its own, so that its size can prefix it. */
export function encodeTagged<T>(
  tag: number,
  version: number,
  value: T,
  write: (w: KafkaWriter, version: number, v: T) => void,
): TaggedField {
  const w = new KafkaWriter(64);
  write(w, version, value);
  return { tag, data: w.finish() };
}

/** A value that is nullable in some versions but written in a version where it is not. */
export function nn<T>(v: T | null, what: string): T {
  if (v === null) throw new RangeError(`${what} is not nullable in this version`);
  return v;
}

// Element writers for arrays of primitives (the generated code passes them to writeArray).
export const wrBool = (w: KafkaWriter, _v: number, x: boolean): void => w.bool(x);
export const wrInt8 = (w: KafkaWriter, _v: number, x: number): void => w.int8(x);
export const wrInt16 = (w: KafkaWriter, _v: number, x: number): void => w.int16(x);
export const wrUint16 = (w: KafkaWriter, _v: number, x: number): void => w.uint16(x);
export const wrInt32 = (w: KafkaWriter, _v: number, x: number): void => w.int32(x);
export const wrUint32 = (w: KafkaWriter, _v: number, x: number): void => w.uint32(x);
export const wrInt64 = (w: KafkaWriter, _v: number, x: bigint): void => w.int64(x);
export const wrFloat64 = (w: KafkaWriter, _v: number, x: number): void => w.float64(x);
export const wrUuid = (w: KafkaWriter, _v: number, x: string): void => w.uuid(x);
export const wrString = (w: KafkaWriter, _v: number, x: string): void => w.string(x);
export const wrCompactString = (w: KafkaWriter, _v: number, x: string): void => w.compactString(x);
export const wrBytes = (w: KafkaWriter, _v: number, x: Buffer): void => w.bytes(x);
export const wrCompactBytes = (w: KafkaWriter, _v: number, x: Buffer): void => w.compactBytes(x);
