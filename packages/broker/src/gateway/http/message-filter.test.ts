// Unit tests of the peek/move filter on messages with real AMQP property bytes.
// Invariant: each case fails if the filter matches where it should not or misses where it should.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as amqp from "@spindle/protocol/amqp";
import { createMessage } from "../../queues/index.ts";
import { messageFilter } from "./message-filter.ts";
import { encodeProperties } from "./message-json.ts";

const msg = (body: Buffer | string, headers?: amqp.FieldTable) =>
  createMessage({
    exchange: "",
    routingKey: "k",
    properties: encodeProperties(headers === undefined ? {} : { headers, contentType: "text/plain" }),
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    persistent: true,
  });

test("matches a substring of the payload, binary ones too", () => {
  const f = messageFilter("time") as (m: ReturnType<typeof msg>) => boolean;
  assert.equal(f(msg("request timeout")), true);
  assert.equal(f(msg("Timeout")), false, "case-sensitive");
  assert.equal(f(msg(Buffer.concat([Buffer.from([0, 255]), Buffer.from("time")]))), true);
});

test("matches string header values, nested ones too, but not names, numbers or other properties", () => {
  const f = messageFilter("rejected") as (m: ReturnType<typeof msg>) => boolean;
  const death = { "x-death": [{ queue: "orders", reason: "rejected", count: amqp.typed("l", 1n) }] };
  assert.equal(f(msg("body", death)), true);
  assert.equal(f(msg("body", { rejected: "no" })), false, "a header name");
  assert.equal(f(msg("body", { n: 12345 })), false);
  const n = messageFilter("234") as (m: ReturnType<typeof msg>) => boolean;
  assert.equal(n(msg("body", { n: 12345 })), false, "numbers are not text");
  const plain = messageFilter("text/plain") as (m: ReturnType<typeof msg>) => boolean;
  assert.equal(plain(msg("body", {})), false, "only headers, not content_type");
});

test("no filter matches everything; a bad one is refused", () => {
  assert.equal(messageFilter(undefined), undefined);
  assert.equal(messageFilter(""), undefined);
  assert.throws(() => messageFilter(7), /'filter' must be a string/);
  assert.throws(() => messageFilter("x".repeat(5000)), /at most 4096 bytes/);
});
