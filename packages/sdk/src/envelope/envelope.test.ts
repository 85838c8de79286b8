import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildMessage, toMessage } from "./envelope.ts";

const encoded = { body: Buffer.from("{}"), contentType: "application/json" };
const defaults = { source: "spindle-sdk://host/1", nowMs: Date.UTC(2026, 0, 1) };

describe("envelope", () => {
  it("writes no correlationid for a message that starts its conversation; readers take its id", () => {
    for (const options of [{}, { id: "m-1", correlationId: "m-1" }]) {
      const m = buildMessage("orders", options, encoded, defaults);
      assert.equal("correlationid" in m.attributes.extensions, false);
      assert.equal(toMessage("orders", m, {}, 1).correlationId, m.attributes.id);
    }
  });

  it("keeps a correlation id other than the message's own", () => {
    const m = buildMessage(
      "orders",
      { id: "m-2", correlationId: "c-1", causationId: "m-1" },
      encoded,
      defaults,
    );
    assert.equal(m.attributes.extensions.correlationid, "c-1");
    const got = toMessage("orders", m, {}, 1);
    assert.equal(got.correlationId, "c-1");
    assert.equal(got.causationId, "m-1");
  });

  it("writes the required attributes and the time of each publish", () => {
    const a = buildMessage("orders", {}, encoded, defaults).attributes;
    assert.equal(a.specversion, "1.0");
    assert.equal(a.source, defaults.source);
    assert.equal(a.type, "orders");
    assert.equal(a.time, "2026-01-01T00:00:00.000Z");
    const later = buildMessage("orders", {}, encoded, { ...defaults, nowMs: defaults.nowMs + 1 });
    assert.equal(later.attributes.time, "2026-01-01T00:00:00.001Z");
    assert.notEqual(later.attributes.id, a.id);
  });
});

describe("serializer choice", () => {
  it("picks the first serializer that reads a content type, and the same one again", async () => {
    const { SerializerChoice, jsonSerializer, textSerializer, bufferSerializer } = await import(
      "./serializers.ts"
    );
    const choice = new SerializerChoice([jsonSerializer, bufferSerializer, textSerializer]);
    for (let i = 0; i < 2; i++) {
      assert.equal(choice.for("application/json; charset=utf-8"), jsonSerializer);
      assert.equal(choice.for("application/cloudevents+json"), jsonSerializer);
      assert.equal(choice.for("TEXT/plain"), textSerializer);
      assert.equal(choice.for("application/octet-stream"), bufferSerializer);
      assert.equal(choice.for("image/png"), undefined);
    }
  });
});
