// Unit tests of the default partitioner: murmur2 agrees with the Java client's test vectors and with kafkajs'
// default partitioner on random keys. Invariant: each check fails if one byte of the hash's mixing changes.

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import fc from "fast-check";
import { murmur2, Partitioner, partitionForKey } from "./partitioner.ts";

const require = createRequire(import.meta.url);
// kafkajs' murmur2 (the DefaultPartitioner's, Java-compatible since kafkajs 2): an independent implementation
const kafkajsMurmur2 = require("kafkajs/src/producer/partitioners/default/murmur2.js") as (
  key: Buffer,
) => number;

test("murmur2 gives the values of Kafka's UtilsTest.testMurmur2", () => {
  const cases: [string, number][] = [
    ["21", -973932308],
    ["foobar", -790332482],
    ["a-little-bit-long-string", -985981536],
    ["a-little-bit-longer-string", -1486304829],
    ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
    ["abc", 479470107],
  ];
  for (const [key, expected] of cases) assert.equal(murmur2(Buffer.from(key)), expected, key);
});

test("murmur2 agrees with kafkajs on random keys of every tail length", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 67 }), (bytes) => {
      const key = Buffer.from(bytes);
      assert.equal(murmur2(key), kafkajsMurmur2(key));
    }),
    { numRuns: 2000 },
  );
});

test("a key goes where kafkajs' DefaultPartitioner sends it; keyless records go round robin", () => {
  const { Partitioners } = require("kafkajs") as typeof import("kafkajs");
  const theirs = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: 7 }, (_, i) => ({
    partitionId: i,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  for (let i = 0; i < 500; i++) {
    const key = Buffer.from(`order-${i}`);
    const expected = theirs({ topic: "t", partitionMetadata, message: { key, value: null } });
    assert.equal(partitionForKey(key, 7), expected);
  }
  const p = new Partitioner();
  const keyless = Array.from({ length: 8 }, () => p.partitionFor("t", 3, null));
  assert.deepEqual(keyless, [0, 1, 2, 0, 1, 2, 0, 1]);
  assert.equal(p.partitionFor("other", 3, null), 0, "each topic keeps its own turn");
  assert.equal(p.partitionFor("t", 3, Buffer.from("order-1")), partitionForKey(Buffer.from("order-1"), 3));
});
