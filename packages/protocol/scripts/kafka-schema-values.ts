// Builds plain message values from the spec model: defaults for what a caller leaves out (capture tool, tests).
// Invariant: only fields present on the wire at the given version are filled, so encoders see what they expect.

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type FieldDef,
  intersect,
  isEmpty,
  loadMessages,
  type MessageDef,
  type StructDef,
} from "./gen-kafka-model.ts";

export const specDir = join(
  fileURLToPath(new URL("../../../", import.meta.url)),
  "..",
  "shared",
  "specs",
  "kafka-messages",
);

export const inRange = (r: { lo: number; hi: number }, v: number): boolean => v >= r.lo && v <= r.hi;

/** Positional (non-tagged) and present at `version`. */
export function isPositional(f: FieldDef, version: number): boolean {
  return isEmpty(f.tagged) && inRange(f.versions, version);
}

export function isTaggedAt(f: FieldDef, version: number): boolean {
  return !isEmpty(f.tagged) && inRange(intersect(f.tagged, f.versions), version);
}

export function isNullableAt(f: FieldDef, version: number): boolean {
  return inRange(f.nullable, version);
}

function defaultScalar(f: FieldDef, version: number): unknown {
  const d = f.raw.default;
  const nullable = isNullableAt(f, version);
  const t = f.type;
  if (t.kind === "array") return d === "null" && nullable ? null : [];
  if (t.kind === "struct") return d === "null" && nullable ? null : fillStruct(t.struct, version, {});
  switch (t.name) {
    case "bool":
      return d === true || d === "true";
    case "int64":
      return d === undefined || d === "" ? 0n : BigInt(String(d).trim());
    case "string":
      return d === "null" && nullable ? null : d === undefined ? "" : String(d);
    case "uuid":
      return "AAAAAAAAAAAAAAAAAAAAAA";
    case "bytes":
      return d === "null" && nullable ? null : Buffer.alloc(0);
    case "records":
      return nullable ? null : Buffer.alloc(0);
    default:
      return d === undefined || d === "" ? 0 : Number(String(d).trim());
  }
}

/** Fills every positional field `partial` leaves out with its default; nested structs are filled too. */
export function fillStruct(
  s: StructDef,
  version: number,
  partial: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...partial };
  for (const f of s.fields) {
    if (!isPositional(f, version)) continue;
    const given = partial[f.name];
    if (given === undefined) {
      out[f.name] = defaultScalar(f, version);
      continue;
    }
    if (f.type.kind === "struct" && given !== null) {
      out[f.name] = fillStruct(f.type.struct, version, given as Record<string, unknown>);
    } else if (f.type.kind === "array" && f.type.elem.kind === "struct" && Array.isArray(given)) {
      const elem = f.type.elem.struct;
      out[f.name] = given.map((g) => fillStruct(elem, version, g as Record<string, unknown>));
    }
  }
  return out;
}

let cache: Map<string, MessageDef> | undefined;

export function messageDef(name: string): MessageDef {
  cache ??= new Map(loadMessages(specDir).map((m) => [m.raw.name, m]));
  const m = cache.get(name);
  if (!m) throw new Error(`no spec for ${name}`);
  return m;
}

export function allMessageDefs(): MessageDef[] {
  messageDef("ProduceRequest");
  return [...cache!.values()];
}
