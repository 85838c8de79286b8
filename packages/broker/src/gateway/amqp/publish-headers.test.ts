// Tests publish-headers.ts: the headers and x-delay read from a table's bytes on demand equal what decoding
// the whole table at publish gave, and a table is decoded once at most.
import assert from "node:assert/strict";
import { test } from "node:test";
import * as amqp from "@spindle/protocol/amqp";
import fc from "fast-check";
import { delayOf } from "../../queues/index.ts";
import { delayOfTable, headersOfTable } from "./publish-headers.ts";
import { plainTable } from "./tables.ts";

function tableBytes(t: amqp.AmqpTable): Buffer {
  const w = new amqp.WireWriter(64);
  amqp.encodeFieldTable(w, t);
  return Buffer.from(w.finish());
}

const delayValue = fc.oneof(
  fc.integer({ min: -5, max: 100_000 }),
  fc.constant("250"),
  fc.constant(1.5),
  fc.constant(amqp.typed("b", 7)),
);
const table = fc.dictionary(
  fc.oneof(fc.constantFrom("x-delay", "x-delayx", "a", "cloudEvents:id"), fc.string({ maxLength: 8 })),
  fc.oneof(delayValue, fc.string({ maxLength: 12 }), fc.dictionary(fc.constant("x-delay"), delayValue)),
  { maxKeys: 6 },
) as fc.Arbitrary<amqp.FieldTable>;

test("headers and x-delay read on demand equal those of the table decoded at once", () => {
  fc.assert(
    fc.property(table, (t) => {
      const bytes = tableBytes(t);
      const full = plainTable(amqp.decodeFieldTable(new amqp.WireReader(bytes, "t")));
      const headers = headersOfTable(bytes);
      assert.equal(delayOfTable(bytes, headers), delayOf(full));
      assert.deepEqual(headers(), full);
    }),
    { numRuns: 500 },
  );
});

test("no table: no headers and no delay; a table is decoded on the first read only", () => {
  const none = headersOfTable(undefined);
  assert.equal(none(), undefined);
  assert.equal(delayOfTable(undefined, none), 0);
  const headers = headersOfTable(tableBytes({ "x-delay": 50, a: "b" }));
  const first = headers();
  assert.deepEqual(first, { "x-delay": 50, a: "b" });
  assert.equal(headers(), first, "the same object: built once");
});
