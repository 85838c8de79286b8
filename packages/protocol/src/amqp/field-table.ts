// Field tables and arrays (RabbitMQ's dialect of AMQP 0-9-1 field types) ⇄ plain JS values.
// Invariant: decode(bytes) re-encodes byte-identically: a value is plain only when the default encoding
// of that plain value has the same type tag and bytes; otherwise it is decoded as a `Typed` wrapper.
import { syntaxError } from "./codec-error.ts";
import { WireReader } from "./wire-reader.ts";
import type { WireWriter } from "./wire-writer.ts";

/** AMQP decimal: value = digits / 10^scale (RabbitMQ reads both as unsigned). */
export interface Decimal {
  readonly scale: number;
  readonly digits: number;
}

/** A table in key order, for tables a plain object cannot reproduce (duplicate, numeric or `__proto__`
 *  keys, or keys that are not valid UTF-8). */
export type TableEntries = ReadonlyArray<readonly [key: string | Buffer, value: FieldValue]>;

interface TypedPayload {
  t: number; // a boolean octet other than 0 or 1
  b: number; // int8
  B: number; // uint8
  s: number; // int16 (RabbitMQ's meaning of 's'; the 0-9-1 text's short string is not used by RabbitMQ)
  u: number; // uint16
  I: number; // int32
  i: number; // uint32
  l: bigint; // int64
  f: number; // float32
  d: number; // float64
  D: Decimal;
  S: Buffer; // long string that is not valid UTF-8
  T: bigint; // timestamp (seconds) too large for a Date
  F: TableEntries;
}
export type FieldTag = keyof TypedPayload;

/** A field value with an explicit wire type. Plain JS values get a default type (see encodeFieldValue). */
export class Typed<K extends FieldTag = FieldTag> {
  constructor(
    readonly type: K,
    readonly value: TypedPayload[K],
  ) {}
}
export type AnyTyped = { [K in FieldTag]: Typed<K> }[FieldTag];

export type FieldValue =
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | Date
  | null
  | AnyTyped
  | FieldValue[]
  | FieldTable;
export interface FieldTable {
  [key: string]: FieldValue;
}
/** What a table-typed method argument or property holds: almost always a plain object. */
export type AmqpTable = FieldTable | Typed<"F">;

/** Convenience constructor: `typed("b", 5)`. */
export function typed<K extends FieldTag>(type: K, value: TypedPayload[K]): Typed<K> {
  return new Typed(type, value);
}

/** Nesting limit, so a hostile peer cannot overflow the stack with 5-byte nested tables. */
export const FIELD_NESTING_MAX = 64;
const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;
const DATE_SECONDS_MAX = 8_640_000_000_000n;

// ---- decode ----

export function decodeFieldTable(r: WireReader, depth = 0): AmqpTable {
  const sub = new WireReader(r.bytes(r.u32()), "field table");
  const entries: [string | Buffer, FieldValue][] = [];
  let plain = true;
  const seen = new Set<string>();
  while (sub.remaining > 0) {
    const keyBytes = sub.bytes(sub.u8());
    const key = exactUtf8(keyBytes);
    const value = decodeFieldValue(sub, depth + 1);
    if (key === undefined) {
      plain = false;
      entries.push([keyBytes, value]);
      continue;
    }
    if (seen.has(key) || key === "__proto__" || isArrayIndex(key)) plain = false;
    seen.add(key);
    entries.push([key, value]);
  }
  if (!plain) return new Typed("F", entries);
  const table: FieldTable = {};
  for (const [k, v] of entries) table[k as string] = v;
  return table;
}

export function decodeFieldArray(r: WireReader, depth = 0): FieldValue[] {
  const sub = new WireReader(r.bytes(r.u32()), "field array");
  const out: FieldValue[] = [];
  while (sub.remaining > 0) out.push(decodeFieldValue(sub, depth + 1));
  return out;
}

export function decodeFieldValue(r: WireReader, depth: number): FieldValue {
  if (depth > FIELD_NESTING_MAX) throw syntaxError(`field table nested deeper than ${FIELD_NESTING_MAX}`);
  const tag = r.u8();
  switch (tag) {
    case 0x74 /* t */:
      {
        const b = r.u8();
        return b === 0 ? false : b === 1 ? true : new Typed("t", b);
      }
    case 0x62 /* b */:
      return new Typed("b", r.i8());
    case 0x42 /* B */:
      return new Typed("B", r.u8());
    case 0x73 /* s */:
      return new Typed("s", r.i16());
    case 0x75 /* u */:
      return new Typed("u", r.u16());
    case 0x49 /* I */:
      return r.i32();
    case 0x69 /* i */:
      return new Typed("i", r.u32());
    case 0x6c /* l */:
      {
        const v = r.i64();
        const n = Number(v);
        return Number.isSafeInteger(n) && (n < INT32_MIN || n > INT32_MAX) ? n : v;
      }
    case 0x66 /* f */:
      return new Typed("f", r.f32());
    case 0x64 /* d */:
      {
        const v = r.f64();
        return defaultNumberTag(v) === "d" ? v : new Typed("d", v);
      }
    case 0x44 /* D */:
      return new Typed("D", { scale: r.u8(), digits: r.u32() });
    case 0x53 /* S */:
      {
        const bytes = r.longstr();
        const s = exactUtf8(bytes);
        return s === undefined ? new Typed("S", bytes) : s;
      }
    case 0x78 /* x */:
      return r.longstr();
    case 0x41 /* A */:
      return decodeFieldArray(r, depth);
    case 0x54 /* T */:
      {
        const seconds = r.u64();
        return seconds <= DATE_SECONDS_MAX ? new Date(Number(seconds) * 1000) : new Typed("T", seconds);
      }
    case 0x46 /* F */:
      return decodeFieldTable(r, depth);
    case 0x56 /* V */:
      return null;
    default:
      throw syntaxError(`unknown field type 0x${tag.toString(16)} at offset ${r.offset - 1} of ${r.what}`);
  }
}

// ---- check, without building ----

/**
 * A field table's encoded bytes (its u32 length included), checked exactly as decodeFieldTable would check
 * them — the same errors for the same bytes — but with no value built: for a reader that passes the table
 * on as bytes and decodes it only when something needs a value (decodeFieldTable of a reader over them).
 */
export function checkedFieldTable(r: WireReader, depth = 0): Buffer {
  const start = r.offset;
  checkFieldTable(r, depth);
  return r.buf.subarray(start, r.offset);
}

function checkFieldTable(r: WireReader, depth: number): void {
  const sub = new WireReader(r.bytes(r.u32()), "field table");
  while (sub.remaining > 0) {
    sub.skip(sub.u8());
    checkFieldValue(sub, depth + 1);
  }
}

function checkFieldArray(r: WireReader, depth: number): void {
  const sub = new WireReader(r.bytes(r.u32()), "field array");
  while (sub.remaining > 0) checkFieldValue(sub, depth + 1);
}

/** The checks of decodeFieldValue (nesting, tags, lengths) in the same order, stepping over each value. */
function checkFieldValue(r: WireReader, depth: number): void {
  if (depth > FIELD_NESTING_MAX) throw syntaxError(`field table nested deeper than ${FIELD_NESTING_MAX}`);
  const tag = r.u8();
  switch (tag) {
    case 0x74 /* t */:
    case 0x62 /* b */:
    case 0x42 /* B */:
      r.skip(1);
      break;
    case 0x73 /* s */:
    case 0x75 /* u */:
      r.skip(2);
      break;
    case 0x49 /* I */:
    case 0x69 /* i */:
    case 0x66 /* f */:
      r.skip(4);
      break;
    case 0x44 /* D */:
      r.skip(1); // scale, then digits: a truncated decimal fails where decode's second read would
      r.skip(4);
      break;
    case 0x6c /* l */:
    case 0x64 /* d */:
    case 0x54 /* T */:
      r.skip(8);
      break;
    case 0x53 /* S */:
    case 0x78 /* x */:
      r.skip(r.u32());
      break;
    case 0x41 /* A */:
      checkFieldArray(r, depth);
      break;
    case 0x46 /* F */:
      checkFieldTable(r, depth);
      break;
    case 0x56 /* V */:
      break;
    default:
      throw syntaxError(`unknown field type 0x${tag.toString(16)} at offset ${r.offset - 1} of ${r.what}`);
  }
}

// ---- encode ----

export function encodeFieldTable(w: WireWriter, table: AmqpTable, depth = 0): void {
  const at = w.placeholderU32();
  const start = w.length;
  if (table instanceof Typed) {
    for (const [k, v] of table.value) {
      if (typeof k === "string") w.shortstr(k);
      else w.shortbytes(k);
      encodeFieldValue(w, v, depth + 1);
    }
  } else {
    for (const k of Object.keys(table)) {
      const v = table[k];
      if (v === undefined) continue; // like JSON: an absent value is no entry
      w.shortstr(k);
      encodeFieldValue(w, v, depth + 1);
    }
  }
  w.patchU32(at, w.length - start);
}

export function encodeFieldArray(w: WireWriter, values: readonly FieldValue[], depth = 0): void {
  const at = w.placeholderU32();
  const start = w.length;
  for (const v of values) encodeFieldValue(w, v, depth + 1);
  w.patchU32(at, w.length - start);
}

/** Defaults for plain values: string→S, integer→I (int32) or l (safe integer), other number→d,
 *  bigint→l, boolean→t, Buffer/Uint8Array→x, Date→T, array→A, object→F, null→V. */
export function encodeFieldValue(w: WireWriter, v: FieldValue, depth: number): void {
  if (depth > FIELD_NESTING_MAX) throw new RangeError(`field table nested deeper than ${FIELD_NESTING_MAX}`);
  switch (typeof v) {
    case "string":
      w.u8(0x53);
      w.longstrUtf8(v);
      return;
    case "boolean":
      w.u8(0x74);
      w.u8(v ? 1 : 0);
      return;
    case "bigint":
      w.u8(0x6c);
      w.i64(v);
      return;
    case "number":
      encodeNumber(w, v);
      return;
  }
  if (v === null) w.u8(0x56);
  else if (v instanceof Typed) encodeTyped(w, v as AnyTyped, depth);
  else if (v instanceof Uint8Array) {
    w.u8(0x78);
    w.longstr(v);
  } else if (v instanceof Date) {
    const ms = v.getTime();
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`timestamp must be a valid date after 1970: ${v}`);
    w.u8(0x54);
    w.u64(BigInt(Math.floor(ms / 1000)));
  } else if (Array.isArray(v)) {
    w.u8(0x41);
    encodeFieldArray(w, v, depth);
  } else if (typeof v === "object") {
    w.u8(0x46);
    encodeFieldTable(w, v, depth);
  } else {
    throw new TypeError(`cannot encode ${typeof v} as an AMQP field value`);
  }
}

function defaultNumberTag(v: number): "I" | "l" | "d" {
  if (!Number.isSafeInteger(v) || Object.is(v, -0)) return "d";
  return v >= INT32_MIN && v <= INT32_MAX ? "I" : "l";
}

function encodeNumber(w: WireWriter, v: number): void {
  const tag = defaultNumberTag(v);
  if (tag === "I") {
    w.u8(0x49);
    w.i32(v);
  } else if (tag === "l") {
    w.u8(0x6c);
    w.i64(BigInt(v));
  } else {
    w.u8(0x64);
    w.f64(v);
  }
}

function encodeTyped(w: WireWriter, t: AnyTyped, depth: number): void {
  w.u8(t.type.charCodeAt(0));
  switch (t.type) {
    case "t":
    case "B":
      w.u8(t.value);
      break;
    case "b":
      w.i8(t.value);
      break;
    case "s":
      w.i16(t.value);
      break;
    case "u":
      w.u16(t.value);
      break;
    case "I":
      w.i32(t.value);
      break;
    case "i":
      w.u32(t.value);
      break;
    case "l":
      w.i64(t.value);
      break;
    case "f":
      w.f32(t.value);
      break;
    case "d":
      w.f64(t.value);
      break;
    case "D":
      w.u8(t.value.scale);
      w.u32(t.value.digits);
      break;
    case "S":
      w.longstr(t.value);
      break;
    case "T":
      w.u64(t.value);
      break;
    case "F":
      encodeFieldTable(w, t, depth);
      break;
  }
}

// ---- helpers ----

function isArrayIndex(key: string): boolean {
  // JS objects enumerate such keys first, in numeric order, which would reorder the table.
  return /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) < 0xffff_ffff;
}

/** The bytes as a string if UTF-8 decoding is lossless, else undefined. */
export function exactUtf8(bytes: Buffer): string | undefined {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i] as number) >= 0x80) {
      ascii = false;
      break;
    }
  }
  const s = bytes.toString("utf8");
  if (ascii) return s;
  return Buffer.from(s, "utf8").equals(bytes) ? s : undefined;
}

/** A plain JS view of a value, for applications that do not care about wire types. */
export function fieldValueToPlain(v: FieldValue): unknown {
  if (v instanceof Typed) {
    const t = v as AnyTyped;
    if (t.type === "F") return Object.fromEntries(t.value.map(([k, x]) => [String(k), fieldValueToPlain(x)]));
    if (t.type === "t") return t.value !== 0;
    if (t.type === "S") return t.value.toString("utf8");
    return t.value;
  }
  if (Array.isArray(v)) return v.map(fieldValueToPlain);
  if (v !== null && typeof v === "object" && !(v instanceof Date) && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fieldValueToPlain(x)]));
  }
  return v;
}
