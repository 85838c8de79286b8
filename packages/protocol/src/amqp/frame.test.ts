// Tests frame encode/decode, the protocol header rule and malformed frames (→ 501/502 replies later).
// Invariant checked: decodeFrame(encodeFrame(f)) is f; bad frames fail with the reply code they deserve.
import assert from "node:assert/strict";
import { describe, it, test } from "node:test";
import fc from "fast-check";
import { AmqpCodecError } from "./codec-error.ts";
import {
  type AmqpFrame,
  decodeFrame,
  encodeFrame,
  encodeRawFrame,
  HEARTBEAT_FRAME_BYTES,
  type RawFrame,
  splitBody,
  writeContentFrames,
} from "./frame.ts";
import { FrameReader } from "./frame-reader.ts";
import { FRAME_ERROR, SYNTAX_ERROR } from "./generated/constants.ts";
import { createMethod } from "./generated/methods.ts";
import { checkProtocolHeader, PROTOCOL_HEADER } from "./protocol-header.ts";
import { WireWriter } from "./wire-writer.ts";

const codeIs = (code: number, re: RegExp) => (e: unknown) =>
  e instanceof AmqpCodecError && e.replyCode === code && re.test(e.message);

function readAll(bytes: Buffer, frameMax = 131072): RawFrame[] {
  return [...new FrameReader(frameMax).push(bytes)];
}

describe("protocol header", () => {
  it("accepts AMQP 0-9-1 and hands back the bytes after it", () => {
    const r = checkProtocolHeader(Buffer.concat([PROTOCOL_HEADER, HEARTBEAT_FRAME_BYTES]));
    assert.equal(r.status, "ok");
    assert.deepEqual(r.status === "ok" && r.rest, HEARTBEAT_FRAME_BYTES);
    assert.deepEqual([...PROTOCOL_HEADER], [0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);
  });

  it("waits while the prefix matches", () => {
    assert.equal(checkProtocolHeader(Buffer.from("AMQ")).status, "incomplete");
    assert.equal(checkProtocolHeader(Buffer.alloc(0)).status, "incomplete");
  });

  it("answers other versions and other protocols with our header, at the first wrong byte", () => {
    for (const other of [
      Buffer.from([0x41, 0x4d, 0x51, 0x50, 1, 1, 0, 9]), // 0-9 legacy style
      Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0]), // AMQP 1.0
      Buffer.from("GET / HTTP/1.1\r\n"),
      Buffer.from([0x16, 0x03]), // TLS client hello
    ]) {
      const r = checkProtocolHeader(other);
      assert.equal(r.status, "mismatch");
      assert.deepEqual(r.status === "mismatch" && r.reply, PROTOCOL_HEADER);
    }
  });
});

describe("frames", () => {
  const frames: AmqpFrame[] = [
    {
      type: "method",
      channel: 0,
      method: createMethod("connection.tune", { channelMax: 2047, frameMax: 131072, heartbeat: 60 }),
    },
    { type: "method", channel: 3, method: createMethod("basic.publish", { exchange: "", routingKey: "q" }) },
    {
      type: "header",
      channel: 3,
      classId: 60,
      weight: 0,
      bodySize: 5,
      properties: { contentType: "text/plain", headers: { a: 1 }, timestamp: 1_700_000_000n },
    },
    { type: "body", channel: 3, payload: Buffer.from("hello") },
    { type: "heartbeat", channel: 0 },
  ];

  it("round-trips method, content header, body and heartbeat frames", () => {
    const bytes = Buffer.concat(frames.map((f) => encodeFrame(f)));
    const raws = readAll(bytes);
    assert.deepEqual(raws.map(decodeFrame), frames);
    assert.deepEqual(Buffer.concat(raws.map(encodeRawFrame)), bytes);
  });

  it("lays out a frame as type, channel, size, payload, 0xCE", () => {
    assert.deepEqual([...HEARTBEAT_FRAME_BYTES], [8, 0, 0, 0, 0, 0, 0, 0xce]);
    const body = encodeFrame({ type: "body", channel: 258, payload: Buffer.from([7]) });
    assert.deepEqual([...body], [3, 1, 2, 0, 0, 0, 1, 7, 0xce]);
  });

  it("splits bodies so each body frame fits frame_max", () => {
    const parts = splitBody(1, Buffer.alloc(10000), 4096);
    assert.deepEqual(
      parts.map((p) => p.payload.length),
      [4088, 4088, 1824],
    );
    assert.deepEqual(splitBody(1, Buffer.alloc(0), 4096), []);
  });
});

describe("malformed frames", () => {
  it("rejects a frame larger than frame_max from its header alone, before buffering the payload", () => {
    const header = Buffer.from([1, 0, 0, 0xff, 0xff, 0xff, 0xff]); // claims 4 GiB
    const reader = new FrameReader(4096);
    assert.throws(() => [...reader.push(header)], codeIs(FRAME_ERROR, /exceeds frame_max 4096/));
    assert.equal(reader.bufferedBytes, 0);
    // the limit counts the 8 bytes of framing: 4088 payload bytes fit in 4096, 4089 do not
    const fits = encodeFrame({ type: "body", channel: 1, payload: Buffer.alloc(4088) });
    assert.equal(readAll(fits, 4096).length, 1);
    const over = encodeFrame({ type: "body", channel: 1, payload: Buffer.alloc(4089) });
    assert.throws(() => readAll(over, 4096), codeIs(FRAME_ERROR, /exceeds/));
  });

  it("stays failed after an error", () => {
    const reader = new FrameReader(4096);
    assert.throws(
      () => [...reader.push(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0xce]))],
      codeIs(FRAME_ERROR, /type 9/),
    );
    assert.throws(() => [...reader.push(HEARTBEAT_FRAME_BYTES)], /type 9/);
  });

  it("rejects a bad frame-end byte", () => {
    const bad = Buffer.from(HEARTBEAT_FRAME_BYTES);
    bad[7] = 0xcd;
    assert.throws(() => readAll(bad), codeIs(FRAME_ERROR, /frame end byte is 0xcd/));
  });

  it("rejects a truncated method payload with 502 and says what was cut", () => {
    const full = encodeFrame(frames0());
    const payload = full.subarray(7, full.length - 1);
    const raw: RawFrame = { type: 1, channel: 1, payload: payload.subarray(0, payload.length - 3) };
    assert.throws(() => decodeFrame(raw), codeIs(SYNTAX_ERROR, /truncated method frame/));
  });

  it("rejects heartbeats off channel 0 or with a payload, and bad content headers", () => {
    assert.throws(
      () => decodeFrame({ type: 8, channel: 1, payload: Buffer.alloc(0) }),
      codeIs(FRAME_ERROR, /channel 1/),
    );
    assert.throws(
      () => decodeFrame({ type: 8, channel: 0, payload: Buffer.alloc(1) }),
      codeIs(FRAME_ERROR, /payload/),
    );
    const header = (classId: number, weight: number) => {
      const p = Buffer.alloc(14);
      p.writeUInt16BE(classId, 0);
      p.writeUInt16BE(weight, 2);
      return { type: 2, channel: 1, payload: p };
    };
    assert.throws(() => decodeFrame(header(50, 0)), codeIs(FRAME_ERROR, /class 50/));
    assert.throws(() => decodeFrame(header(60, 1)), codeIs(FRAME_ERROR, /weight 1/));
    assert.throws(
      () => decodeFrame({ type: 2, channel: 1, payload: Buffer.alloc(5) }),
      codeIs(SYNTAX_ERROR, /truncated/),
    );
  });
});

function frames0(): AmqpFrame {
  return {
    type: "method",
    channel: 1,
    method: createMethod("queue.declare", { queue: "orders", arguments: { "x-message-ttl": 1000 } }),
  };
}

test("writeContentFrames writes the same bytes as encoding each frame on its own", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 3000 }),
      fc.constantFrom(0, 4096, 1000, 9),
      fc.integer({ min: 0, max: 65535 }),
      (bytes, frameMax, channel) => {
        const body = Buffer.from(bytes);
        const method = createMethod("basic.deliver", {
          consumerTag: "ctag",
          deliveryTag: 7n,
          exchange: "ex",
          routingKey: "rk",
        });
        const propertyBytes = Buffer.from([0x10, 0x00, 0x02]); // delivery-mode 2
        const w = new WireWriter(16);
        w.bytes(Buffer.from("earlier output"));
        w.take();
        writeContentFrames(w, channel, method, 60, propertyBytes, body, frameMax);
        const one = w.take();
        const header = Buffer.concat([Buffer.from([0, 60, 0, 0]), Buffer.alloc(8), propertyBytes]);
        header.writeBigUInt64BE(BigInt(body.length), 4);
        const each = [
          encodeFrame({ type: "method", channel, method }),
          encodeRawFrame({ type: 2, channel, payload: header }),
          ...splitBody(channel, body, frameMax).map((f) => encodeFrame(f)),
        ];
        assert.deepEqual(one, Buffer.concat(each));
      },
    ),
  );
});
