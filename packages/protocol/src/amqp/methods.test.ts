// Tests the generated method and property codecs against the spec: ids, bit packing, defaults, round trips.
// Invariant checked: for every method, decode(encode(args)) equals args and re-encodes to the same bytes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { AmqpCodecError } from "./codec-error.ts";
import { NOT_FOUND, REPLY_CODES, SYNTAX_ERROR } from "./generated/constants.ts";
import {
  type AmqpMethod,
  createMethod,
  decodeMethod,
  encodeMethod,
  METHOD_ARG_TYPES,
  METHOD_INFO,
  type MethodName,
} from "./generated/methods.ts";
import {
  type BasicProperties,
  decodeBasicProperties,
  encodeBasicProperties,
} from "./generated/properties.ts";
import { argOf, basicProperties } from "./testing/arbitraries.ts";
import { WireReader } from "./wire-reader.ts";
import { WireWriter } from "./wire-writer.ts";

const names = Object.keys(METHOD_INFO) as MethodName[];

function methodArb(name: MethodName): fc.Arbitrary<AmqpMethod> {
  const fields = Object.fromEntries(METHOD_ARG_TYPES[name].map(([k, t]) => [k, argOf(t)]));
  return fc.record(fields, { noNullPrototype: true }).map((args) => ({ name, args }) as AmqpMethod);
}

describe("generated methods", () => {
  it("round-trips every method's arguments (property)", () => {
    for (const name of names) {
      fc.assert(
        fc.property(methodArb(name), (m) => {
          const bytes = encodeMethod(m);
          const back = decodeMethod(bytes);
          assert.deepEqual(back, m);
          assert.deepEqual(encodeMethod(back), bytes);
        }),
        { numRuns: 40 },
      );
    }
  });

  it("knows ids, synchronous and content flags from the spec", () => {
    assert.equal(names.length, 66);
    assert.deepEqual(METHOD_INFO["basic.publish"], {
      classId: 60,
      methodId: 40,
      id: 0x003c0028,
      synchronous: false,
      content: true,
    });
    assert.equal(METHOD_INFO["queue.declare"].synchronous, true);
    assert.equal(METHOD_INFO["basic.nack"].methodId, 120);
    assert.equal(METHOD_INFO["confirm.select"].classId, 85);
    assert.equal(METHOD_INFO["exchange.unbind-ok"].methodId, 51);
    for (const n of ["basic.deliver", "basic.get-ok", "basic.return"] as const)
      assert.ok(METHOD_INFO[n].content);
  });

  it("packs consecutive bit arguments into one octet, low bit first", () => {
    const m = createMethod("queue.declare", { queue: "q", durable: true, autoDelete: true, nowait: false });
    const bytes = encodeMethod(m);
    // class 50, method 10, ticket 0, shortstr "q", bits, empty table
    assert.deepEqual([...bytes], [0, 50, 0, 10, 0, 0, 1, 0x71, 0b0000_1010, 0, 0, 0, 0]);
  });

  it("fills spec defaults in createMethod", () => {
    const m = createMethod("exchange.declare", { exchange: "e" });
    assert.deepEqual(m.args, {
      ticket: 0,
      exchange: "e",
      type: "direct",
      passive: false,
      durable: false,
      autoDelete: false,
      internal: false,
      nowait: false,
      arguments: {},
    });
  });

  it("rejects truncated payloads, trailing bytes and unknown methods with clear errors", () => {
    const bytes = encodeMethod(createMethod("basic.ack", { deliveryTag: 7n }));
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(
        () => decodeMethod(bytes.subarray(0, cut)),
        (e: unknown) =>
          e instanceof AmqpCodecError && e.replyCode === SYNTAX_ERROR && /truncated/.test(e.message),
      );
    }
    assert.throws(
      () => decodeMethod(Buffer.concat([bytes, Buffer.from([0])])),
      /basic\.ack: 1 unexpected trailing/,
    );
    assert.throws(
      () => decodeMethod(Buffer.from([0, 60, 0, 99])),
      (e: unknown) =>
        e instanceof AmqpCodecError && e.replyCode === 503 && /unknown method 60\.99/.test(e.message),
    );
  });

  it("maps reply codes to their scope", () => {
    assert.deepEqual(REPLY_CODES[NOT_FOUND], { name: "NOT_FOUND", scope: "channel" });
    assert.equal(REPLY_CODES[501].scope, "connection");
  });
});

function encProps(p: BasicProperties): Buffer {
  const w = new WireWriter(8);
  encodeBasicProperties(w, p);
  return Buffer.from(w.finish());
}
function decProps(b: Buffer): BasicProperties {
  const r = new WireReader(b, "properties");
  const p = decodeBasicProperties(r);
  r.expectEnd();
  return p;
}

describe("basic properties", () => {
  it("round-trips any subset of properties (property)", () => {
    fc.assert(
      fc.property(basicProperties, (p) => {
        const bytes = encProps(p);
        assert.deepEqual(decProps(bytes), p);
      }),
      { numRuns: 200 },
    );
  });

  it("uses bit 15 for the first property and leaves the continuation bit clear", () => {
    assert.deepEqual([...encProps({ contentType: "a" })], [0x80, 0x00, 1, 0x61]);
    assert.deepEqual([...encProps({ clusterId: "" })], [0x00, 0x04, 0]);
    assert.deepEqual(decProps(Buffer.from([0, 1, 0, 0])), {}); // an empty continuation word is accepted
  });

  it("rejects flags for properties that do not exist", () => {
    assert.throws(() => decProps(Buffer.from([0, 2])), /unknown basic property flags 0x2/);
    assert.throws(() => decProps(Buffer.from([0, 1, 0x80, 0])), /continuation word/);
  });
});
