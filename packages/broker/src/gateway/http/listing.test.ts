// Unit tests of list replies: RabbitMQ's columns, sort, sort_reverse, page/page_size, name/use_regex.
// Invariant: each case pins one query parameter's effect on the answer's items or shape.

import assert from "node:assert/strict";
import { test } from "node:test";
import { isBrokerError } from "../../lib/index.ts";
import { listBody } from "./listing.ts";

interface Item {
  name: string;
  messages: number;
}
const items: Item[] = [
  { name: "b", messages: 3 },
  { name: "a", messages: 10 },
  { name: "c-x", messages: 1 },
];
let shaped = 0;
let lastWant: ((key: string) => boolean) | undefined;
const lister = {
  name: (i: Item) => i.name,
  shape: (i: Item, want?: (key: string) => boolean) => {
    shaped++;
    lastWant = want;
    return { name: i.name, messages: i.messages, stats: { publish: i.messages * 2, ack: 1 } };
  },
};
const list = (query: string) => listBody(new URLSearchParams(query), items, lister);
const names = (v: unknown) => (v as { name: string }[]).map((x) => x.name);

test("by default a list is sorted by name; sort and sort_reverse order by any (dotted) field", () => {
  assert.deepEqual(names(list("")), ["a", "b", "c-x"]);
  assert.deepEqual(names(list("sort=messages")), ["c-x", "b", "a"]);
  assert.deepEqual(names(list("sort=stats.publish&sort_reverse=true")), ["a", "b", "c-x"]);
  assert.deepEqual(names(list("sort=")), ["b", "a", "c-x"], "an empty sort keeps the model's order");
});

test("columns keep the named fields, dotted ones inside nested objects", () => {
  list("columns=messages&sort=stats.ack");
  assert.deepEqual(
    ["name", "messages", "stats", "other"].map((k) => lastWant?.(k)),
    [true, true, true, false],
    "the lister is told which top-level fields to build: the columns, the sort key's and the name",
  );
  list("");
  assert.equal(lastWant, undefined, "no columns: everything");
  assert.deepEqual(list("columns=name,stats.ack"), [
    { name: "a", stats: { ack: 1 } },
    { name: "b", stats: { ack: 1 } },
    { name: "c-x", stats: { ack: 1 } },
  ]);
});

test("page and page_size answer RabbitMQ's page object, shaping only the page's items", () => {
  shaped = 0;
  assert.deepEqual(list("page=2&page_size=2&columns=name"), {
    filtered_count: 3,
    item_count: 1,
    items: [{ name: "c-x" }],
    page: 2,
    page_count: 2,
    page_size: 2,
    total_count: 3,
  });
  assert.equal(shaped, 1);
  for (const bad of ["page=0", "page=1&page_size=501", "page=x", "page=3&page_size=1&name=zz"]) {
    assert.throws(
      () => list(bad),
      (e) => isBrokerError(e, "INVALID_REQUEST"),
      bad,
    );
  }
});

test("name filters by substring (case-insensitive) or, with use_regex, by a regular expression", () => {
  assert.deepEqual(names(list("name=X")), ["c-x"]);
  assert.deepEqual(names(list("name=^[ab]$&use_regex=true")), ["a", "b"]);
  assert.throws(() => list("name=(&use_regex=true"), /not a valid regular expression/);
});
