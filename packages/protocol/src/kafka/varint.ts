// Zig-zag varints as Kafka records use them (32-bit for lengths and deltas, 64-bit for timestamp deltas).
// Reads return the value and advance a cursor; malformed input throws RangeError for the caller to map.

export interface Cursor {
  buf: Buffer;
  pos: number;
}

export function readVarint(c: Cursor): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (c.pos >= c.buf.length) throw new RangeError("varint runs past the end of the buffer");
    const b = c.buf[c.pos++]!;
    if (shift === 28 && b > 0x0f) throw new RangeError("varint longer than 32 bits");
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  return (result >>> 1) ^ -(result & 1);
}

/** 64-bit zig-zag varint, returned as a number: record timestamps and offsets fit in 2^53. */
export function readVarlong(c: Cursor): number {
  // most varlongs (timestamp deltas) end within 3 bytes (21 bits): read those as a varint, without BigInt
  const buf = c.buf;
  const p = c.pos;
  if (
    p + 3 <= buf.length &&
    ((buf[p] as number) & (buf[p + 1] as number) & (buf[p + 2] as number) & 0x80) === 0
  ) {
    return readVarint(c);
  }
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (c.pos >= c.buf.length) throw new RangeError("varlong runs past the end of the buffer");
    const b = c.buf[c.pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7n;
    if (shift > 63n) throw new RangeError("varlong longer than 64 bits");
  }
  return Number((result >> 1n) ^ -(result & 1n));
}

export function varintSize(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

export function writeVarint(buf: Buffer, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

function zigzag64(value: number): bigint {
  const v = BigInt(value);
  return BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
}

export function varlongSize(value: number): number {
  if (Number.isSafeInteger(value) && value >= -0x40000000 && value < 0x40000000) return varintSize(value);
  let v = zigzag64(value);
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

export function writeVarlong(buf: Buffer, pos: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return writeVarint(buf, pos, value);
  let v = zigzag64(value);
  while (v >= 0x80n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}
