// Tests field tables: every RabbitMQ field type, default typing of plain JS values, byte-identical re-encoding.
// Invariant checked: decode → encode reproduces the bytes, for generated values of every type.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { AmqpCodecError } from "./codec-error.ts";
import {
  type AmqpTable,
  decodeFieldTable,
  encodeFieldTable,
  FIELD_NESTING_MAX,
  type FieldValue,
  fieldValueToPlain,
  Typed,
  typed,
} from "./field-table.ts";
import { fieldTable, fieldValue } from "./testing/arbitraries.ts";
import { WireReader } from "./wire-reader.ts";
import { WireWriter } from "./wire-writer.ts";

function enc(t: AmqpTable): Buffer {
  const w = new WireWriter(16);
  encodeFieldTable(w, t);
  return Buffer.from(w.finish());
}
function dec(b: Buffer): AmqpTable {
  const r = new WireReader(b, "test table");
  const t = decodeFieldTable(r);
  r.expectEnd();
  return t;
}
/** The wire bytes of a single value: a one-entry table minus its 4-byte length and "k" key. */
function valueBytes(v: FieldValue): Buffer {
  return enc({ k: v }).subarray(6);
}

describe("field table", () => {
  it("encodes plain JS values with the documented default types", () => {
    const tag = (v: FieldValue) => String.fromCharCode(valueBytes(v)[0] as number);
    assert.equal(tag("s"), "S");
    assert.equal(tag(7), "I");
    assert.equal(tag(-(2 ** 31)), "I");
    assert.equal(tag(2 ** 31), "l");
    assert.equal(tag(2 ** 60), "d"); // not a safe integer: only a double holds it
    assert.equal(tag(1.5), "d");
    assert.equal(tag(-0), "d");
    assert.equal(tag(5n), "l");
    assert.equal(tag(true), "t");
    assert.equal(tag(Buffer.from("x")), "x");
    assert.equal(tag(new Date(1000)), "T");
    assert.equal(tag({ a: 1 }), "F");
    assert.equal(tag([1]), "A");
    assert.equal(tag(null), "V");
  });

  it("decodes each RabbitMQ field type to the agreed representation", () => {
    const table: AmqpTable = {
      t: true,
      b: typed("b", -5),
      B: typed("B", 200),
      s: typed("s", -300),
      u: typed("u", 60000),
      I: -123456,
      i: typed("i", 4_000_000_000),
      l: 2 ** 40,
      lSmall: 5n,
      f: typed("f", 1.5),
      d: 3.25,
      dInt: typed("d", 3),
      D: typed("D", { scale: 2, digits: 12345 }),
      S: "héllo",
      x: Buffer.from([0, 255]),
      A: [1, "a", [null]],
      T: new Date(1_700_000_000_000),
      F: { nested: { deeper: false } },
      V: null,
    };
    const bytes = enc(table);
    assert.deepEqual(dec(bytes), table);
    assert.deepEqual(enc(dec(bytes)), bytes);
  });

  it("keeps tables a plain object would reorder or corrupt as ordered entries", () => {
    const entries = [
      ["b", 1],
      ["1", 2],
      ["__proto__", 3],
      ["b", 4],
    ] as const;
    const bytes = enc(new Typed("F", entries));
    const back = dec(bytes);
    assert.ok(back instanceof Typed && back.type === "F");
    assert.deepEqual(back.value, entries);
    assert.deepEqual(enc(back), bytes);
  });

  it("keeps long strings and keys that are not valid UTF-8 as bytes", () => {
    const bad = Buffer.from([0xc3, 0x28]);
    const bytes = enc(new Typed("F", [[bad, new Typed("S", bad)]]));
    const back = dec(bytes);
    assert.ok(back instanceof Typed && back.type === "F");
    assert.deepEqual(back.value[0], [bad, new Typed("S", bad)]);
    assert.deepEqual(enc(back), bytes);
  });

  it("re-encodes decoded tables byte-identically (property)", () => {
    fc.assert(
      fc.property(fieldTable, (t) => {
        const b1 = enc(t);
        const v1 = dec(b1);
        const b2 = enc(v1);
        assert.deepEqual(b2, b1);
        assert.deepEqual(dec(b2), v1);
      }),
      { numRuns: 300 },
    );
  });

  it("re-encodes any decoded value byte-identically (property)", () => {
    fc.assert(
      fc.property(fieldValue, (v) => {
        const b1 = enc({ v });
        assert.deepEqual(enc(dec(b1)), b1);
      }),
      { numRuns: 300 },
    );
  });

  it("rejects unknown type tags, truncation and excessive nesting with 502", () => {
    const unknown = Buffer.from([0, 0, 0, 3, 1, 0x6b, 0x5a]); // k: 'Z'
    assert.throws(
      () => dec(unknown),
      (e: unknown) => e instanceof AmqpCodecError && e.replyCode === 502,
    );
    const truncated = Buffer.from([0, 0, 0, 9, 1, 0x6b, 0x53, 0, 0, 0, 9, 0x61]); // S of 9 with 1 byte
    assert.throws(() => dec(truncated), /truncated/);
    let deep: FieldValue = 1;
    for (let i = 0; i < FIELD_NESTING_MAX + 2; i++) deep = [deep];
    const w = new WireWriter();
    w.u32(0); // placeholder, patched below
    const body = (() => {
      const inner = new WireWriter();
      inner.shortstr("k");
      let bytes = valueBytes(1);
      for (let i = 0; i < FIELD_NESTING_MAX + 2; i++) {
        const n = Buffer.alloc(5);
        n.write("A");
        n.writeUInt32BE(bytes.length, 1);
        bytes = Buffer.concat([n, bytes]);
      }
      inner.bytes(bytes);
      return inner.finish();
    })();
    const deepBytes = Buffer.concat([Buffer.from([0, 0, 0, 0]), body]);
    deepBytes.writeUInt32BE(body.length, 0);
    assert.throws(() => dec(deepBytes), /nested deeper/);
    assert.throws(() => enc({ deep }), /nested deeper/);
  });

  it("offers a plain view that drops wire types", () => {
    assert.deepEqual(fieldValueToPlain({ a: typed("b", 1), b: new Typed("F", [["k", typed("t", 2)]]) }), {
      a: 1,
      b: { k: true },
    });
  });
});
