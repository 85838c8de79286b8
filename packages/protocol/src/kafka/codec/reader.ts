// Bounds-checked reader for Kafka's primitive wire types (classic and flexible/compact encodings).
// Invariant: every length a peer declares is checked against the bytes left before anything is allocated.

/** A tagged field this codec does not know, kept as raw bytes so that it round-trips. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

/** Every generated struct may carry tagged fields it does not know (flexible versions only). */
export interface Tagged {
  _unknownTaggedFields?: TaggedField[];
}

export class KafkaReader {
  buf: Buffer;
  pos: number;
  /** exclusive; narrowed while a known tagged field is decoded */
  end: number;

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    if (pos < 0 || end > buf.length || pos > end) throw new RangeError("reader range outside the buffer");
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless n more bytes are available; returns the position before them and advances. */
  take(n: number): number {
    const p = this.pos;
    if (n < 0 || n > this.end - p) {
      throw new RangeError(`need ${n} bytes at offset ${p}, ${this.end - p} left`);
    }
    this.pos = p + n;
    return p;
  }

  int8(): number {
    return this.buf.readInt8(this.take(1));
  }

  bool(): boolean {
    return this.buf[this.take(1)] !== 0;
  }

  int16(): number {
    return this.buf.readInt16BE(this.take(2));
  }

  uint16(): number {
    return this.buf.readUInt16BE(this.take(2));
  }

  int32(): number {
    return this.buf.readInt32BE(this.take(4));
  }

  uint32(): number {
    return this.buf.readUInt32BE(this.take(4));
  }

  int64(): bigint {
    return this.buf.readBigInt64BE(this.take(8));
  }

  float64(): number {
    return this.buf.readDoubleBE(this.take(8));
  }

  /** 16 bytes, returned as Kafka prints it: 22 characters of unpadded base64url. */
  uuid(): string {
    const p = this.take(16);
    return this.buf.toString("base64url", p, p + 16);
  }

  /** Unsigned LEB128, at most 5 bytes / 32 bits. */
  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new RangeError("unsigned varint runs past the end");
      const b = this.buf[this.pos++]!;
      if (shift === 28 && b > 0x0f) throw new RangeError("unsigned varint longer than 32 bits");
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  }

  private utf8(n: number): string {
    const p = this.take(n);
    return this.buf.toString("utf8", p, p + n);
  }

  string(): string {
    const n = this.int16();
    if (n < 0) throw new RangeError("non-nullable string is null");
    return this.utf8(n);
  }

  nullableString(): string | null {
    const n = this.int16();
    if (n < 0) {
      if (n !== -1) throw new RangeError(`invalid string length ${n}`);
      return null;
    }
    return this.utf8(n);
  }

  compactString(): string {
    const n = this.uvarint();
    if (n === 0) throw new RangeError("non-nullable compact string is null");
    return this.utf8(n - 1);
  }

  compactNullableString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.utf8(n - 1);
  }

  /** A view into the input: no copy. */
  private view(n: number): Buffer {
    const p = this.take(n);
    return this.buf.subarray(p, p + n);
  }

  bytes(): Buffer {
    const n = this.int32();
    if (n < 0) throw new RangeError("non-nullable bytes are null");
    return this.view(n);
  }

  nullableBytes(): Buffer | null {
    const n = this.int32();
    if (n < 0) {
      if (n !== -1) throw new RangeError(`invalid bytes length ${n}`);
      return null;
    }
    return this.view(n);
  }

  compactBytes(): Buffer {
    const n = this.uvarint();
    if (n === 0) throw new RangeError("non-nullable compact bytes are null");
    return this.view(n - 1);
  }

  compactNullableBytes(): Buffer | null {
    const n = this.uvarint();
    return n === 0 ? null : this.view(n - 1);
  }

  raw(n: number): Buffer {
    return this.view(n);
  }

  /**
   * Element count of an array, -1 for null. Each element needs at least `minElemBytes` bytes, so a
   * count that cannot fit in what is left is rejected before the caller allocates anything.
   */
  arrayLength(compact: boolean, minElemBytes: number): number {
    let n: number;
    if (compact) {
      n = this.uvarint() - 1;
    } else {
      n = this.int32();
      if (n < -1) throw new RangeError(`invalid array length ${n}`);
    }
    if (n > 0 && n * Math.max(minElemBytes, 1) > this.end - this.pos) {
      throw new RangeError(`array of ${n} elements cannot fit in ${this.end - this.pos} bytes`);
    }
    return n;
  }
}

/** Sets a known tagged field on `target` and returns true, or returns false for an unknown tag. */
export type TagDecoder<T> = (r: KafkaReader, version: number, target: T, tag: number) => boolean;

/** Reads a flexible struct's tagged-field section; unknown tags are kept in `_unknownTaggedFields`. */
export function readTaggedFields<T extends Tagged>(
  r: KafkaReader,
  version: number,
  target: T,
  known: TagDecoder<T> | null,
): void {
  const count = r.uvarint();
  if (count === 0) return;
  // each entry is at least two bytes (tag and size), so a huge count fails here, not in a loop
  if (count * 2 > r.remaining()) throw new RangeError(`${count} tagged fields cannot fit`);
  let unknown: TaggedField[] | undefined;
  let last = -1;
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    if (tag <= last) throw new RangeError(`tagged field ${tag} out of order after ${last}`);
    last = tag;
    const size = r.uvarint();
    if (size > r.remaining()) throw new RangeError(`tagged field ${tag} of ${size} bytes is truncated`);
    const fieldEnd = r.pos + size;
    const savedEnd = r.end;
    r.end = fieldEnd;
    const isKnown = known?.(r, version, target, tag) === true;
    if (isKnown) {
      if (r.pos !== fieldEnd) throw new RangeError(`tagged field ${tag} size does not match its content`);
    } else {
      unknown ??= [];
      unknown.push({ tag, data: r.raw(size) });
    }
    r.end = savedEnd;
  }
  if (unknown !== undefined) target._unknownTaggedFields = unknown;
}

export function readArray<T>(
  r: KafkaReader,
  compact: boolean,
  minElemBytes: number,
  version: number,
  elem: (r: KafkaReader, version: number) => T,
): T[] {
  const n = r.arrayLength(compact, minElemBytes);
  if (n < 0) throw new RangeError("non-nullable array is null");
  const out: T[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = elem(r, version);
  return out;
}

export function readNullableArray<T>(
  r: KafkaReader,
  compact: boolean,
  minElemBytes: number,
  version: number,
  elem: (r: KafkaReader, version: number) => T,
): T[] | null {
  const n = r.arrayLength(compact, minElemBytes);
  if (n < 0) return null;
  const out: T[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = elem(r, version);
  return out;
}

export function toReader(input: Buffer | KafkaReader): KafkaReader {
  return input instanceof KafkaReader ? input : new KafkaReader(input);
}

export function checkVersion(version: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(version) || version < min || version > max) {
    throw new RangeError(`${what} version ${version} is outside ${min}-${max}`);
  }
}

/** Shared empty buffer for `bytes` defaults; never written to. */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

// Element readers for arrays of primitives (the generated code passes them to readArray).
export const rdBool = (r: KafkaReader): boolean => r.bool();
export const rdInt8 = (r: KafkaReader): number => r.int8();
export const rdInt16 = (r: KafkaReader): number => r.int16();
export const rdUint16 = (r: KafkaReader): number => r.uint16();
export const rdInt32 = (r: KafkaReader): number => r.int32();
export const rdUint32 = (r: KafkaReader): number => r.uint32();
export const rdInt64 = (r: KafkaReader): bigint => r.int64();
export const rdFloat64 = (r: KafkaReader): number => r.float64();
export const rdUuid = (r: KafkaReader): string => r.uuid();
export const rdString = (r: KafkaReader): string => r.string();
export const rdCompactString = (r: KafkaReader): string => r.compactString();
export const rdBytes = (r: KafkaReader): Buffer => r.bytes();
export const rdCompactBytes = (r: KafkaReader): Buffer => r.compactBytes();
