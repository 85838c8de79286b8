// plainTable: what a decoded header or argument table becomes in the queue model (headers routing, x-delay,
// definitions). Checked on tables decoded from real wire bytes, so every field type the codec yields is seen.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as amqp from "@spindle/protocol/amqp";
import { plainTable } from "./tables.ts";

/** The table as the broker gets it from a publish: encoded, then decoded by the protocol codec. */
function wire(table: amqp.AmqpTable): amqp.AmqpTable {
  const w = new amqp.WireWriter();
  amqp.encodeBasicProperties(w, { headers: table });
  const headers = amqp.decodeBasicProperties(new amqp.WireReader(w.finish(), "test")).headers;
  assert.ok(headers !== undefined);
  return headers;
}

test("plain values stay, int64 becomes a number, bytes a string, a timestamp seconds", () => {
  const at = new Date(1_700_000_000_000);
  const plain = plainTable(
    wire({
      s: "text",
      i: 7,
      big: 2n ** 40n,
      d: 1.5,
      yes: true,
      none: null,
      bytes: Buffer.from("raw"),
      at,
      list: ["a", 1, [2n ** 35n]],
      nested: { deeper: { n: 2n ** 33n } },
    }),
  );
  assert.deepEqual(plain, {
    s: "text",
    i: 7,
    big: 2 ** 40,
    d: 1.5,
    yes: true,
    none: null,
    bytes: "raw",
    at: 1_700_000_000,
    list: ["a", 1, [2 ** 35]],
    nested: { deeper: { n: 2 ** 33 } },
  });
  assert.doesNotThrow(() => JSON.stringify(plain));
});

test("typed values lose their wire type", () => {
  const plain = plainTable(
    wire({
      byte: amqp.typed("b", -3),
      u16: amqp.typed("u", 65_000),
      odd: amqp.typed("t", 2),
      dec: amqp.typed("D", { scale: 2, digits: 1234 }),
      latin: amqp.typed("S", Buffer.from([0x63, 0xe9])),
      f: amqp.typed("f", 0.5),
    }),
  );
  assert.deepEqual(plain, {
    byte: -3,
    u16: 65_000,
    odd: true,
    dec: { scale: 2, digits: 1234 },
    latin: Buffer.from([0x63, 0xe9]).toString("utf8"),
    f: 0.5,
  });
});

test("a table with keys a plain object cannot keep gets string keys, __proto__ as an own property", () => {
  const decoded = wire(
    amqp.typed("F", [
      ["2", "index"],
      ["__proto__", { polluted: true }],
      ["k", amqp.typed("F", [["k", 1n]])],
    ]),
  );
  assert.ok(decoded instanceof amqp.Typed);
  const plain = plainTable(decoded);
  assert.equal(Object.getPrototypeOf(plain), Object.prototype);
  assert.deepEqual(Object.keys(plain), ["2", "__proto__", "k"]);
  assert.deepEqual(Object.getOwnPropertyDescriptor(plain, "__proto__")?.value, { polluted: true });
  assert.deepEqual(plain.k, { k: 1 });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test("no table is an empty object", () => {
  assert.deepEqual(plainTable(undefined), {});
});
