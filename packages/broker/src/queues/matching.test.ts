// Unit tests for topic and headers matching, with RabbitMQ's answers as the expected values.
// Invariant: each case was checked against RabbitMQ 3.10 by the differential suite.

import assert from "node:assert/strict";
import { test } from "node:test";
import { headersMatch, topicMatches } from "./matching.ts";

test("topic patterns", () => {
  const cases: [string, string, boolean][] = [
    ["a.*", "a.b", true],
    ["a.*", "a", false],
    ["a.#", "a", true],
    ["a.#", "a.b.c", true],
    ["#", "", true],
    ["*", "", false],
    ["*", "c", true],
    ["#.c", "a.x.y.c", true],
    ["*.b.#", "x.b", true],
    ["*.b.#", "b.b.b", true],
    ["a.*.c", "a.b.b.c", false],
    ["", "", true],
    ["", "a", false],
  ];
  for (const [p, k, want] of cases) assert.equal(topicMatches(p, k), want, `${p} vs '${k}'`);
});

test("headers x-match", () => {
  assert.equal(headersMatch({ "x-match": "all", a: 1, b: "x" }, { a: 1, b: "x" }), true);
  assert.equal(headersMatch({ "x-match": "all", a: 1, b: "x" }, { a: 1 }), false);
  assert.equal(headersMatch({ "x-match": "any", a: 1, b: "x" }, { a: 1, b: "y" }), true);
  assert.equal(headersMatch({ a: 1 }, {}), false);
  assert.equal(headersMatch({ "x-match": "all" }, {}), true);
  assert.equal(headersMatch({ "x-match": "any" }, { a: 1 }), false);
  assert.equal(headersMatch({ "x-match": "all", "x-k": 1 }, {}), true);
  assert.equal(headersMatch({ "x-match": "all-with-x", "x-k": 1 }, {}), false);
});
