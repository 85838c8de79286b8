// Property tests over the spec: for every API and version, random message → encode → decode → encode is stable,
// and truncated or random input fails with RangeError only. Skipped when ../shared/specs is absent.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { MessageDef, StructDef, TypeRef } from "../../../scripts/gen-kafka-model.ts";
import {
  allMessageDefs,
  isNullableAt,
  isPositional,
  isTaggedAt,
  specDir,
} from "../../../scripts/kafka-schema-values.ts";
import { kafkaApiList } from "../generated/index.ts";
import type { KafkaApiCodec } from "./api-codec.ts";
import { KafkaReader } from "./reader.ts";

const hasSpecs = existsSync(specDir);
const MAIN_APIS = new Set([
  "Produce",
  "Fetch",
  "Metadata",
  "ApiVersions",
  "JoinGroup",
  "SyncGroup",
  "OffsetCommit",
  "OffsetFetch",
  "ListOffsets",
  "CreateTopics",
  "InitProducerId",
]);

type Arb = fc.Arbitrary<unknown>;

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

function primArb(name: string): Arb {
  switch (name) {
    case "bool":
      return fc.boolean();
    case "int8":
      return fc.integer({ min: -128, max: 127 });
    case "int16":
      return fc.integer({ min: -32768, max: 32767 });
    case "uint16":
      return fc.integer({ min: 0, max: 65535 });
    case "int32":
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case "uint32":
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    case "int64":
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case "float64":
      return fc.double();
    case "uuid":
      return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a).toString("base64url"));
    case "string":
      return fc.string({ maxLength: 12, unit: "binary" });
    default:
      return bytes(24);
  }
}

function typeArb(t: TypeRef, version: number, flexible: boolean): Arb {
  if (t.kind === "prim") return primArb(t.name);
  if (t.kind === "array") return fc.array(typeArb(t.elem, version, flexible), { maxLength: 3 });
  return structArb(t.struct, version, flexible);
}

const unknownTags = fc
  .uniqueArray(fc.integer({ min: 50, max: 300 }), { maxLength: 2 })
  .chain((tags) =>
    fc.tuple(...tags.sort((a, b) => a - b).map((tag) => bytes(6).map((data) => ({ tag, data })))),
  );

function structArb(s: StructDef, version: number, flexible: boolean): Arb {
  const model: Record<string, Arb> = {};
  const required: string[] = [];
  for (const f of s.fields) {
    const positional = isPositional(f, version);
    if (!positional && !(flexible && isTaggedAt(f, version))) continue;
    let arb = typeArb(f.type, version, flexible);
    if (isNullableAt(f, version)) arb = fc.option(arb, { nil: null, freq: 4 });
    model[f.name] = arb;
    if (positional) required.push(f.name);
  }
  if (flexible) model._unknownTaggedFields = unknownTags;
  return fc.record(model, { requiredKeys: required });
}

interface Case {
  api: KafkaApiCodec;
  side: "Request" | "Response";
  version: number;
  def: MessageDef;
}

function cases(): Case[] {
  const defs = new Map(allMessageDefs().map((m) => [m.raw.name, m]));
  const out: Case[] = [];
  for (const api of kafkaApiList) {
    for (const side of ["Request", "Response"] as const) {
      const def = defs.get(`${api.name}${side}`)!;
      for (let v = api.minVersion; v <= api.maxVersion; v++) out.push({ api, side, version: v, def });
    }
  }
  return out;
}

function codec(c: Case) {
  const flexible = c.api.flexibleMin !== null && c.version >= c.api.flexibleMin;
  const encode = (m: unknown) =>
    c.side === "Request" ? c.api.encodeRequest(c.version, m) : c.api.encodeResponse(c.version, m);
  const decode = (b: Buffer) => {
    const r = new KafkaReader(b);
    const m = c.side === "Request" ? c.api.decodeRequest(c.version, r) : c.api.decodeResponse(c.version, r);
    assert.equal(r.remaining(), 0, "decoder consumed every byte");
    return m;
  };
  return { flexible, encode, decode, arb: structArb(c.def.root, c.version, flexible) };
}

describe("generated codecs: property round trips", { skip: hasSpecs ? false : "no ../shared/specs" }, () => {
  const all = hasSpecs ? cases() : [];

  it("covers every API and version in the registry", () => {
    assert.ok(kafkaApiList.length >= 80);
    assert.ok(all.length > 500);
  });

  it("encode → decode → encode is byte-identical for every API, side and version", () => {
    for (const c of all) {
      const { encode, decode, arb } = codec(c);
      const runs = MAIN_APIS.has(c.api.name) ? 40 : 8;
      fc.assert(
        fc.property(arb, (msg) => {
          const first = encode(msg);
          const second = encode(decode(first));
          assert.deepEqual(second, first, `${c.api.name}${c.side} v${c.version}`);
        }),
        { numRuns: runs },
      );
    }
  });

  it("every strict prefix of an encoded main-API message throws RangeError", () => {
    for (const c of all.filter((x) => MAIN_APIS.has(x.api.name))) {
      const { encode, decode, arb } = codec(c);
      fc.assert(
        fc.property(arb, fc.nat(), (msg, cut) => {
          const buf = encode(msg);
          if (buf.length === 0) return;
          const n = cut % buf.length;
          assert.throws(() => decode(buf.subarray(0, n)), RangeError);
        }),
        { numRuns: 10 },
      );
    }
  });

  it("random bytes either decode or throw RangeError, for every API and version", () => {
    for (const c of all) {
      const { decode } = codec(c);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
          try {
            decode(Buffer.from(raw));
          } catch (e) {
            if (!(e instanceof RangeError) && !(e instanceof assert.AssertionError)) throw e;
          }
        }),
        { numRuns: 10 },
      );
    }
  });
});
