// Unit tests of the admin commands' text output: tables, key/value blocks, kcat formats, the progress bar.
// Invariant: what is asserted is the exact text a user sees.

import assert from "node:assert/strict";
import { test } from "node:test";
import { compactJson } from "./consume.ts";
import { cellText, keyValues, table, truncate } from "./output.ts";
import { barLine, compact } from "./progress.ts";
import { compileFormat, type Item } from "./record-format.ts";
import { parseStartOffset } from "./topic-reader.ts";

test("a table is boxed, numbers right-aligned, text left-aligned", () => {
  const rows = [
    { name: "jobs", n: 5 },
    { name: "a-longer-name", n: 12345 },
  ];
  assert.deepEqual(
    table(rows, [
      { header: "name", get: (r) => r.name },
      { header: "n", get: (r) => r.n },
    ]),
    [
      "+---------------+-------+",
      "| name          | n     |",
      "+---------------+-------+",
      "| jobs          |     5 |",
      "| a-longer-name | 12345 |",
      "+---------------+-------+",
    ],
  );
});

test("a cell is one line: control characters escaped, objects as compact JSON, null empty", () => {
  assert.equal(cellText("a\nb\tc"), "a\\nb\\tc");
  assert.equal(cellText({ "x-max-length": 10 }), '{"x-max-length":10}');
  assert.equal(cellText(null), "");
  assert.equal(cellText(false), "false");
  assert.equal(truncate("héllo wörld", 6), "héllo…");
  assert.equal(truncate("short", 6), "short");
});

test("key/value lines pad the keys to one width", () => {
  assert.deepEqual(
    keyValues([
      ["version", "Spindle 1.0"],
      ["queues", 3],
    ]),
    ["version  Spindle 1.0", "queues   3"],
  );
});

const item: Item = {
  topic: "t",
  partition: 2,
  offset: 41,
  timestamp: 1700000000000,
  key: Buffer.from("k1"),
  value: Buffer.from([0xff, 0x00]),
  headers: { a: "1", b: "x" },
};

test("kcat formats: tokens, escapes, raw value bytes", () => {
  assert.deepEqual(compileFormat(undefined)(item), Buffer.from([0xff, 0x00, 0x0a]));
  assert.equal(
    compileFormat("%t/%p@%o %k=%S %K %T %h\\t%%\\n")(item).toString("latin1"),
    "t/2@41 k1=2 2 1700000000000 a=1,b=x\t%\n",
  );
  assert.deepEqual(compileFormat("%s|%v\\x21")(item), Buffer.from([0xff, 0x00, 0x7c, 0xff, 0x00, 0x21]));
  assert.equal(compileFormat("é %k")({ ...item, key: null }).toString("utf8"), "é ");
  assert.equal(compileFormat("%S %K")({ ...item, key: null, value: null }).toString(), "-1 -1");
  assert.throws(() => compileFormat("%q"), /unknown token %q/);
});

test("kcat start offsets", () => {
  assert.deepEqual(parseStartOffset("beginning"), { kind: "beginning" });
  assert.deepEqual(parseStartOffset("end"), { kind: "end" });
  assert.deepEqual(parseStartOffset("42"), { kind: "offset", offset: 42 });
  assert.deepEqual(parseStartOffset("-10"), { kind: "fromEnd", back: 10 });
  assert.deepEqual(parseStartOffset("s@1700000000000"), { kind: "timestamp", ms: 1700000000000 });
  assert.throws(() => parseStartOffset("latest"), /expected beginning, end/);
});

test("the progress bar's text", () => {
  assert.equal(barLine("moving", 0, 10, 0), `moving [>${" ".repeat(29)}]   0% 0/10`);
  assert.equal(barLine("moving", 5, 10, 1000), `moving [${"=".repeat(15)}>${" ".repeat(14)}]  50% 5/10 5/s`);
  assert.equal(barLine("moving", 10, 10, 2000), `moving [${"=".repeat(30)}] 100% 10/10 5/s`);
  assert.equal(barLine("producing", 2500, 0, 1000, "B"), "producing 2.5kB 2.5kB/s");
  assert.equal(compact(999), "999");
  assert.equal(compact(1000), "1k");
  assert.equal(compact(5_600_000), "5.6M");
});

test("a pretty-printed JSON value back on one line, strings and big numbers as written", () => {
  const pretty =
    '{\n  "id": 12345678901234567890123,\n  "s": "a b\\" \\\\",\n  "xs": [\n    1,\n    2.50\n  ]\n}';
  assert.equal(compactJson(pretty), '{"id":12345678901234567890123,"s":"a b\\" \\\\","xs":[1,2.50]}');
});
