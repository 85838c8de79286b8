// fast-check arbitraries for AMQP field values, method arguments and properties (test-only; not exported).
// Invariant: every generated value is encodable: lengths and integer ranges stay inside their wire types.
import fc from "fast-check";
import type { AmqpTable, FieldTable, FieldValue, TableEntries } from "../field-table.ts";
import { Typed } from "../field-table.ts";
import type { AmqpType } from "../generated/methods.ts";
import type { BasicProperties } from "../generated/properties.ts";

const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((b) => Buffer.from(b));
/** Strings that UTF-8 can carry (no lone surrogates) and that fit in a shortstr. */
export const shortString = fc
  .string({ unit: "binary", maxLength: 40 })
  .filter((s) => Buffer.byteLength(s) <= 255);
const key = fc.oneof(shortString, fc.constantFrom("0", "12", "__proto__", "x-message-ttl"));

const typedLeaf: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.integer({ min: 0, max: 255 }).map((v) => new Typed("t", v)),
  fc.integer({ min: -128, max: 127 }).map((v) => new Typed("b", v)),
  fc.integer({ min: 0, max: 255 }).map((v) => new Typed("B", v)),
  fc.integer({ min: -32768, max: 32767 }).map((v) => new Typed("s", v)),
  fc.integer({ min: 0, max: 65535 }).map((v) => new Typed("u", v)),
  fc.integer().map((v) => new Typed("I", v)),
  fc.integer({ min: 0, max: 0xffff_ffff }).map((v) => new Typed("i", v)),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => new Typed("l", v)),
  fc.float().map((v) => new Typed("f", v)),
  fc.double().map((v) => new Typed("d", v)),
  fc
    .record(
      { scale: fc.integer({ min: 0, max: 255 }), digits: fc.integer({ min: 0, max: 0xffff_ffff }) },
      { noNullPrototype: true },
    )
    .map((v) => new Typed("D", v)),
  bytes(20).map((v) => new Typed("S", v)),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => new Typed("T", v)),
);

const plainLeaf: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.boolean(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  shortString,
  bytes(20),
  fc.date({ min: new Date(0), max: new Date(8.64e15), noInvalidDate: true }),
  fc.constant(null),
);

/** Any field value, plain or typed, nested up to a few levels. */
export const fieldValue: fc.Arbitrary<FieldValue> = fc.letrec<{ value: FieldValue; table: FieldValue }>(
  (tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      plainLeaf,
      typedLeaf,
      tie("table"),
      fc.array(tie("value"), { maxLength: 4 }),
    ),
    table: fc.oneof(
      fc
        .array(fc.tuple(key, tie("value")), { maxLength: 4 })
        .map((entries) => Object.fromEntries(entries) as FieldTable),
      fc
        .array(fc.tuple(fc.oneof(key, bytes(10)), tie("value")), { maxLength: 4 })
        .map((entries) => new Typed("F", entries as TableEntries)),
    ),
  }),
).value;

export const fieldTable: fc.Arbitrary<AmqpTable> = fc
  .array(fc.tuple(key, fieldValue), { maxLength: 5 })
  .map((entries) => Object.fromEntries(entries) as FieldTable);

/** Tables that decode back to exactly themselves: plain keys, plain default-typed values. */
export const canonicalTable: fc.Arbitrary<FieldTable> = fc
  .array(
    fc.tuple(
      shortString.filter((k) => k !== "__proto__" && !/^\d+$/.test(k)),
      fc.oneof(fc.integer(), shortString, fc.boolean(), fc.constant(null)),
    ),
    { maxLength: 4 },
  )
  .map((entries) => Object.fromEntries(entries));

const longlong = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

export function argOf(t: AmqpType): fc.Arbitrary<unknown> {
  switch (t) {
    case "bit":
      return fc.boolean();
    case "octet":
      return fc.integer({ min: 0, max: 255 });
    case "short":
      return fc.integer({ min: 0, max: 65535 });
    case "long":
      return fc.integer({ min: 0, max: 0xffff_ffff });
    case "longlong":
    case "timestamp":
      return longlong;
    case "shortstr":
      return shortString;
    case "longstr":
      return bytes(40);
    case "table":
      return canonicalTable;
  }
}

export const basicProperties: fc.Arbitrary<BasicProperties> = fc.record(
  {
    contentType: shortString,
    contentEncoding: shortString,
    headers: canonicalTable,
    deliveryMode: fc.integer({ min: 0, max: 255 }),
    priority: fc.integer({ min: 0, max: 255 }),
    correlationId: shortString,
    replyTo: shortString,
    expiration: shortString,
    messageId: shortString,
    timestamp: longlong,
    type: shortString,
    userId: shortString,
    appId: shortString,
    clusterId: shortString,
  },
  { requiredKeys: [], noNullPrototype: true },
);
