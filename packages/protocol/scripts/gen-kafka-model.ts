// Reads Apache Kafka's JSON message definitions into a typed model for the code generator.
// Invariant: every version range is resolved against the message's validVersions before code is emitted.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface Range {
  lo: number;
  hi: number;
}

export const EMPTY: Range = { lo: 1, hi: 0 };

export function parseRange(s: string | undefined): Range {
  if (s === undefined || s === "none") return EMPTY;
  const plus = /^(\d+)\+$/.exec(s);
  if (plus) return { lo: Number(plus[1]), hi: Number.POSITIVE_INFINITY };
  const span = /^(\d+)-(\d+)$/.exec(s);
  if (span) return { lo: Number(span[1]), hi: Number(span[2]) };
  if (/^\d+$/.test(s)) return { lo: Number(s), hi: Number(s) };
  throw new Error(`bad version range "${s}"`);
}

export const isEmpty = (r: Range): boolean => r.lo > r.hi;
export const intersect = (a: Range, b: Range): Range => ({
  lo: Math.max(a.lo, b.lo),
  hi: Math.min(a.hi, b.hi),
});
export const union = (a: Range, b: Range): Range =>
  isEmpty(a) ? b : isEmpty(b) ? a : { lo: Math.min(a.lo, b.lo), hi: Math.max(a.hi, b.hi) };
export const covers = (outer: Range, inner: Range): boolean =>
  isEmpty(inner) || (outer.lo <= inner.lo && outer.hi >= inner.hi);

export interface RawField {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number | string;
  default?: string | number | boolean;
  fields?: RawField[];
  about?: string;
}

export interface RawMessage {
  apiKey?: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions?: string;
  latestVersionUnstable?: boolean;
  listeners?: string[];
  fields: RawField[];
  commonStructs?: { name: string; versions?: string; fields: RawField[] }[];
}

export const PRIMITIVES = new Set([
  "bool",
  "int8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "float64",
  "uuid",
  "string",
  "bytes",
  "records",
]);

export type TypeRef =
  | { kind: "prim"; name: string }
  | { kind: "struct"; struct: StructDef }
  | { kind: "array"; elem: TypeRef };

export interface FieldDef {
  raw: RawField;
  /** camelCase property name */
  name: string;
  type: TypeRef;
  versions: Range;
  nullable: Range;
  tagged: Range;
  tag: number | null;
}

export interface StructDef {
  /** TypeScript interface name, prefixed by the message name so that names are globally unique */
  tsName: string;
  fields: FieldDef[];
  /** union of the versions in which this struct appears on the wire */
  usage: Range;
}

export interface MessageDef {
  raw: RawMessage;
  file: string;
  valid: Range;
  flexible: Range;
  root: StructDef;
  structs: StructDef[];
}

/** Removes `//` comments outside string literals (the files are JSON with comments). */
export function stripComments(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else {
      out += c;
    }
  }
  return out;
}

export function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function buildMessage(raw: RawMessage, file: string): MessageDef {
  const valid = parseRange(raw.validVersions);
  const structs: StructDef[] = [];
  const byName = new Map<string, StructDef>();
  const common = new Map((raw.commonStructs ?? []).map((c) => [c.name, c]));

  const defineStruct = (specName: string, rawFields: RawField[], isRoot: boolean): StructDef => {
    const tsName = isRoot ? raw.name : `${raw.name}${specName}`;
    const s: StructDef = { tsName, fields: [], usage: EMPTY };
    if (!isRoot) {
      if (byName.has(specName)) throw new Error(`${file}: struct ${specName} defined twice`);
      byName.set(specName, s);
    }
    structs.push(s);
    s.fields = rawFields.map((f) => buildField(f));
    return s;
  };

  const resolveStruct = (specName: string, f: RawField): StructDef => {
    if (f.fields) return defineStruct(specName, f.fields, false);
    const known = byName.get(specName);
    if (known) return known;
    const c = common.get(specName);
    if (!c) throw new Error(`${file}: unknown type ${specName} for field ${f.name}`);
    return defineStruct(specName, c.fields, false);
  };

  const resolveType = (type: string, f: RawField): TypeRef => {
    if (type.startsWith("[]")) return { kind: "array", elem: resolveType(type.slice(2), f) };
    if (PRIMITIVES.has(type)) return { kind: "prim", name: type };
    return { kind: "struct", struct: resolveStruct(type, f) };
  };

  const buildField = (f: RawField): FieldDef => {
    const tag = f.tag === undefined ? null : Number(f.tag);
    const versions = intersect(parseRange(f.versions), valid);
    const tagged = tag === null ? EMPTY : parseRange(f.taggedVersions ?? f.versions);
    if (tag !== null && !covers(intersect(tagged, valid), versions)) {
      throw new Error(`${file}: ${f.name} is tagged in only some of its versions`);
    }
    return {
      raw: f,
      name: camel(f.name),
      type: resolveType(f.type, f),
      versions,
      nullable: parseRange(f.nullableVersions),
      tagged,
      tag,
    };
  };

  const root = defineStruct(raw.name, raw.fields, true);
  const markUsage = (s: StructDef, r: Range): void => {
    if (isEmpty(r)) return;
    s.usage = union(s.usage, r);
    for (const f of s.fields) {
      let t = f.type;
      while (t.kind === "array") t = t.elem;
      if (t.kind === "struct") markUsage(t.struct, intersect(f.versions, r));
    }
  };
  markUsage(root, valid);
  return { raw, file, valid, flexible: parseRange(raw.flexibleVersions), root, structs };
}

export function loadMessages(specDir: string): MessageDef[] {
  const out: MessageDef[] = [];
  for (const file of readdirSync(specDir).sort()) {
    if (!file.endsWith(".json")) continue;
    const raw = JSON.parse(stripComments(readFileSync(join(specDir, file), "utf8"))) as RawMessage;
    if (raw.type === "header") continue; // request/response headers are hand-written
    if (isEmpty(parseRange(raw.validVersions))) continue; // validVersions "none": not on the wire
    out.push(buildMessage(raw, file));
  }
  return out;
}
