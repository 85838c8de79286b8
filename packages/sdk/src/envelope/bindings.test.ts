import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TransportMessage } from "../transports/transport.ts";
import { type BindingName, fromBinaryHeaders, toBinaryHeaders } from "./bindings.ts";

const message: TransportMessage = {
  attributes: {
    specversion: "1.0",
    id: "id-1",
    source: "spindle-sdk://host/1",
    type: "OrderCreated",
    time: "2024-01-01T00:00:00.000Z",
    subject: "order/ü 1",
    datacontenttype: "application/json",
    dataschema: "https://example.com/schema/1",
    extensions: {
      correlationid: "c-1",
      causationid: "m-0",
      partitionkey: "customer-7",
      traceparent: "00-abc-def-01",
    },
  },
  headers: { tenant: "t1", "x-spindle-attempt": "2" },
  key: "customer-7",
  body: Buffer.from("{}"),
};

describe("CloudEvents binary-mode bindings", () => {
  it("AMQP: cloudEvents: prefix, content type as the property", () => {
    const { headers, contentType } = toBinaryHeaders("amqp", message);
    assert.equal(headers["cloudEvents:id"], "id-1");
    assert.equal(headers["cloudEvents:specversion"], "1.0");
    assert.equal(headers["cloudEvents:correlationid"], "c-1");
    assert.equal(headers["content-type"], undefined);
    assert.equal(contentType, "application/json");
    assert.equal(headers.tenant, "t1");
  });

  it("Kafka: ce_ prefix and a content-type header", () => {
    const { headers } = toBinaryHeaders("kafka", message);
    assert.equal(headers.ce_type, "OrderCreated");
    assert.equal(headers["content-type"], "application/json");
    assert.equal(headers.ce_partitionkey, "customer-7");
  });

  it("NATS: ce- prefix for every attribute; space, quote, % and non-ASCII percent-encoded", () => {
    const { headers } = toBinaryHeaders("nats", {
      ...message,
      attributes: { ...message.attributes, subject: 'order/ü 1 "50%"' },
    });
    assert.equal(headers["ce-subject"], "order/%C3%BC%201%20%2250%25%22");
    assert.equal(headers["ce-datacontenttype"], "application/json");
    assert.equal(headers["content-type"], undefined);
    assert.equal(headers["ce-source"], "spindle-sdk://host/1");
  });

  for (const b of ["amqp", "kafka", "nats"] as BindingName[]) {
    it(`${b}: headers round-trip to the same attributes, headers and key`, () => {
      const { headers, contentType } = toBinaryHeaders(b, message);
      const back = fromBinaryHeaders(b, headers, message.body, {
        ...(contentType === undefined ? {} : { contentType }),
        fallbackId: "unused",
      });
      assert.deepEqual(back, message);
    });
  }

  it("a message from a client that knows no CloudEvents gets defaults", () => {
    const m = fromBinaryHeaders("kafka", { foo: "bar" }, Buffer.from("x"), { fallbackId: "topic-0-42" });
    assert.equal(m.attributes.id, "topic-0-42");
    assert.equal(m.attributes.type, "unknown");
    assert.deepEqual(m.headers, { foo: "bar" });
  });
});
