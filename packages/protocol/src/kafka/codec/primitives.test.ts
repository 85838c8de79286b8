// Unit tests for the hand-written Kafka primitives, headers and error table.
// Malformed lengths must fail with RangeError before anything the peer declared is allocated.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isKnownKafkaError, KafkaErrorCode, kafkaError, kafkaErrors } from "../error-codes.ts";
import {
  decodeApiVersionsResponse,
  decodeMetadataRequest,
  encodeApiVersionsResponse,
} from "../generated/index.ts";
import {
  decodeRequestHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from "./headers.ts";
import { KafkaReader, rdInt32, readArray } from "./reader.ts";
import { KafkaWriter } from "./writer.ts";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("KafkaReader / KafkaWriter primitives", () => {
  it("round-trips unsigned varints at the byte boundaries", () => {
    for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1]) {
      const w = new KafkaWriter(1);
      w.uvarint(v);
      assert.equal(new KafkaReader(w.finish()).uvarint(), v);
    }
    assert.deepEqual(
      (() => {
        const w = new KafkaWriter();
        w.uvarint(300);
        return w.finish();
      })(),
      hex("ac02"),
    );
  });

  it("rejects an unsigned varint longer than 32 bits or cut short", () => {
    assert.throws(() => new KafkaReader(hex("ffffffff7f")).uvarint(), RangeError);
    assert.throws(() => new KafkaReader(hex("ff")).uvarint(), RangeError);
  });

  it("reads classic and compact nullable strings and bytes", () => {
    assert.equal(new KafkaReader(hex("ffff")).nullableString(), null);
    assert.equal(new KafkaReader(hex("00")).compactNullableString(), null);
    assert.equal(new KafkaReader(hex("0003616263")).string(), "abc");
    assert.equal(new KafkaReader(hex("04616263")).compactString(), "abc");
    assert.equal(new KafkaReader(hex("ffffffff")).nullableBytes(), null);
    assert.throws(() => new KafkaReader(hex("ffff")).string(), RangeError);
    assert.throws(() => new KafkaReader(hex("fffe")).nullableString(), RangeError);
  });

  it("returns bytes as a view into the input", () => {
    const buf = hex("00000002 abcd");
    const b = new KafkaReader(buf).bytes();
    assert.equal(b.buffer, buf.buffer);
    assert.deepEqual(b, hex("abcd"));
  });

  it("rejects declared lengths that exceed the input before allocating", () => {
    assert.throws(() => new KafkaReader(hex("7fff 61")).string(), RangeError);
    assert.throws(() => new KafkaReader(hex("7fffffff 00")).bytes(), RangeError);
    assert.throws(() => new KafkaReader(hex("ffffffff0f")).compactBytes(), RangeError);
    // an int32 array that declares 2^31-1 elements but carries 8 bytes
    assert.throws(
      () => readArray(new KafkaReader(hex("7fffffff 0000000100000002")), false, 4, 0, rdInt32),
      RangeError,
    );
    assert.throws(() => new KafkaReader(hex("fffffffe")).arrayLength(false, 1), RangeError);
  });

  it("round-trips uuids in Kafka's base64url form", () => {
    const w = new KafkaWriter();
    w.uuid("AAAAAAAAAAAAAAAAAAAAAQ");
    const b = w.finish();
    assert.deepEqual(b, hex("00000000000000000000000000000001"));
    assert.equal(new KafkaReader(b).uuid(), "AAAAAAAAAAAAAAAAAAAAAQ");
    assert.throws(() => new KafkaWriter().uuid("short"), RangeError);
  });

  it("keeps large blobs by reference and still produces one contiguous buffer", () => {
    const big = Buffer.alloc(64 * 1024, 7);
    const w = new KafkaWriter();
    w.int32(1);
    w.bytes(big);
    w.int16(2);
    const parts = w.finishParts();
    assert.ok(parts.includes(big), "the blob itself is one of the parts");
    const all = w.finish();
    assert.equal(all.length, 4 + 4 + big.length + 2);
    assert.equal(all.readInt16BE(all.length - 2), 2);
    assert.equal(w.length, all.length);
  });
});

describe("tagged fields", () => {
  it("keeps unknown tags and re-emits them in tag order beside known ones", () => {
    // ApiVersionsResponse v3: errorCode 0, no apis, throttle 0, then tags: 1 (known epoch) and 9 (unknown)
    const body = hex("0000 01 00000000 02 01 08 0000000000000007 09 02 abcd");
    const msg = decodeApiVersionsResponse(3, body);
    assert.equal(msg.finalizedFeaturesEpoch, 7n);
    assert.deepEqual(msg._unknownTaggedFields, [{ tag: 9, data: hex("abcd") }]);
    assert.deepEqual(encodeApiVersionsResponse(3, msg), body);
  });

  it("rejects a known tagged field whose size does not match its content", () => {
    assert.throws(() => decodeApiVersionsResponse(3, hex("0000 01 00000000 01 01 04 00000007")), RangeError);
  });

  it("rejects an impossible tagged-field count quickly", () => {
    assert.throws(() => decodeApiVersionsResponse(3, hex("0000 01 00000000 ffffffff0f")), RangeError);
  });
});

describe("request and response headers", () => {
  it("picks header versions from the API's flexible versions", () => {
    assert.equal(requestHeaderVersion(3, 8), 1); // Metadata v8 is not flexible
    assert.equal(requestHeaderVersion(3, 9), 2);
    assert.equal(responseHeaderVersion(3, 9), 1);
    assert.equal(responseHeaderVersion(18, 3), 0, "ApiVersions always answers with header v0");
    assert.equal(requestHeaderVersion(18, 3), 2);
    assert.equal(requestHeaderVersion(9999, 0), undefined);
  });

  it("reads a v2 header whose client id is still a classic nullable string", () => {
    const h = { apiKey: 3, apiVersion: 12, correlationId: 42, clientId: "cli" };
    const buf = encodeRequestHeader(2, h);
    assert.deepEqual(buf, hex("0003 000c 0000002a 0003 636c69 00"));
    const r = new KafkaReader(Buffer.concat([buf, hex("01 01 00 00")]));
    assert.deepEqual(decodeRequestHeader(r), h);
    assert.deepEqual(decodeMetadataRequest(12, r).topics, []);
    assert.deepEqual(encodeResponseHeader(1, { correlationId: 42 }), hex("0000002a 00"));
  });
});

describe("error-code table", () => {
  it("covers every code from -1 to 133 exactly once", () => {
    const codes = kafkaErrors.map((e) => e.code);
    assert.equal(new Set(codes).size, codes.length);
    for (let c = -1; c <= 133; c++) assert.ok(isKnownKafkaError(c), `code ${c}`);
    assert.equal(KafkaErrorCode.NOT_LEADER_OR_FOLLOWER, 6);
    assert.equal(kafkaError(6).retriable, true);
    assert.equal(kafkaError(36).name, "TOPIC_ALREADY_EXISTS");
    assert.equal(kafkaError(30000).name, "UNKNOWN_SERVER_ERROR");
    for (const [name, code] of Object.entries(KafkaErrorCode)) assert.equal(kafkaError(code).name, name);
  });
});
