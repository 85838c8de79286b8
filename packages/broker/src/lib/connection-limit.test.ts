// The connection limit: admits up to max, refuses a few politely and drops the rest, frees places on close,
// and warns once per burst of refusals.

import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { FakeClock, RecordingLogger } from "../testing/index.ts";
import { ConnectionLimit } from "./connection-limit.ts";
import { LIMITS } from "./limits.ts";

describe("ConnectionLimit", () => {
  it("admits up to max, refuses a few politely, drops the rest, and frees places on close", () => {
    const clock = new FakeClock();
    const logger = new RecordingLogger();
    const limit = new ConnectionLimit({ max: 3, clock, logger, hint: "raise ulimit -n" });
    const sockets = Array.from({ length: 3 + LIMITS.refusingConnectionsMax + 2 }, () => new EventEmitter());
    const admitted = sockets.map((s) => limit.admit(s, "kafka"));
    assert.deepEqual(admitted.slice(0, 3), ["accept", "accept", "accept"]);
    assert.ok(admitted.slice(3, 3 + LIMITS.refusingConnectionsMax).every((a) => a === "refuse"));
    assert.deepEqual(admitted.slice(-2), ["drop", "drop"]);
    sockets[0]!.emit("close");
    assert.equal(limit.admit(new EventEmitter(), "amqp"), "accept");
    const warnings = logger.entries.filter((e) => e.level === "warn");
    assert.equal(warnings.length, 1, "one warning for the burst");
    assert.match(warnings[0]!.msg, /connection limit \(3\) reached.*raise ulimit -n/);
    clock.advance(60_000);
    limit.admit(new EventEmitter(), "http");
    assert.equal(logger.entries.filter((e) => e.level === "warn").length, 2, "a later burst warns again");
  });
});
