// Unit tests of how records are shown: the token-preserving JSON re-indenter against JSON.stringify, the
// text/binary rule, and headers. Invariant: each check fails if a value could be shown other than as stored.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { asText, prettyJson, showHeaders, showKey, showValue } from "./record-view.ts";

test("prettyJson indents as JSON.stringify(v, null, 2) does, from compact or spaced input", () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      const expected = JSON.stringify(v, null, 2);
      assert.equal(prettyJson(JSON.stringify(v)), expected);
      assert.equal(prettyJson(` ${JSON.stringify(v, null, "\t")}\r\n`), expected);
    }),
    { numRuns: 1000 },
  );
});

test("prettyJson keeps numbers and repeated keys as written, where JSON.parse would change them", () => {
  const text = '{"id":12345678901234567890123,"x":1.50,"x":2e3,"s":"a\\"b\\\\","e":{},"l":[ ]}';
  assert.equal(
    prettyJson(text),
    '{\n  "id": 12345678901234567890123,\n  "x": 1.50,\n  "x": 2e3,\n  "s": "a\\"b\\\\",\n  "e": {},\n  "l": []\n}',
  );
});

test("values: JSON pretty, other text as is, binary and control characters as base64, null as null", () => {
  assert.deepEqual(showValue(Buffer.from('{"a":[1,2]}')), {
    value: '{\n  "a": [\n    1,\n    2\n  ]\n}',
    encoding: "json",
  });
  assert.deepEqual(showValue(Buffer.from("42")), { value: "42", encoding: "json" });
  assert.deepEqual(showValue(Buffer.from("héllo\tworld\n")), { value: "héllo\tworld\n", encoding: "string" });
  const bin = Buffer.from([0xff, 0x00, 0x41]);
  assert.deepEqual(showValue(bin), { value: bin.toString("base64"), encoding: "base64" });
  assert.deepEqual(showValue(Buffer.from("a\u0000b")), { value: "YQBi", encoding: "base64" });
  assert.deepEqual(showValue(null), { value: null, encoding: null });
  assert.deepEqual(showKey(Buffer.from('{"k":1}')), { value: '{"k":1}', encoding: "string" });
  assert.equal(asText(Buffer.from([0xef, 0xbb, 0xbf, 0x61])), "\ufeffa", "a BOM is kept, not stripped");
  assert.equal(asText(Buffer.from([0xc3])), null, "a truncated sequence is not text");
});

test("headers: text as is, a repeated key as an array, all base64 when any value is binary", () => {
  const h = (key: string, value: Buffer | null) => ({ key, value });
  assert.deepEqual(showHeaders([h("a", Buffer.from("1")), h("b", null), h("a", Buffer.from("2"))]), {
    headers: { a: ["1", "2"], b: null },
    encoding: "string",
  });
  const shown = showHeaders([h("t", Buffer.from("x")), h("bin", Buffer.from([0xff]))]);
  assert.deepEqual(shown, { headers: { t: "eA==", bin: "/w==" }, encoding: "base64" });
  const proto = showHeaders([h("__proto__", Buffer.from("p"))]);
  assert.equal(Object.getOwnPropertyDescriptor(proto.headers, "__proto__")?.value, "p");
});
