// Property tests: a frame is written whole or not at all, and truncateUtf8 makes any text a valid shortstr.
// Invariant checked: after any sequence of frame writes, some failing, the output is exactly the frames that
// succeeded, each decodable (a failed write left no partial frame to desynchronise the peer).
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type AmqpFrame, decodeFrame, encodeFrame, writeContentFrames, writeFrame } from "./frame.ts";
import { FrameReader } from "./frame-reader.ts";
import { createMethod } from "./generated/methods.ts";
import { SHORTSTR_BYTES_MAX, truncateUtf8, WireWriter } from "./wire-writer.ts";

/** Texts up to 255 characters in any script: many are over 255 bytes of UTF-8. */
const text = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 255, size: "max" }),
  fc.array(fc.constantFrom("a", "é", "€", "😀"), { maxLength: 200, size: "max" }).map((a) => a.join("")),
);

const closeFrame = (replyText: string): AmqpFrame => ({
  type: "method",
  channel: 1,
  method: createMethod("channel.close", { replyCode: 404, replyText, classId: 50, methodId: 10 }),
});

test("a frame whose shortstr is over 255 bytes leaves nothing behind; the others decode in order", () => {
  fc.assert(
    fc.property(fc.array(text, { maxLength: 8 }), fc.integer({ min: 1, max: 64 }), (texts, initial) => {
      const w = new WireWriter(initial);
      const written: AmqpFrame[] = [];
      const out: Buffer[] = [];
      for (const t of texts) {
        const f = closeFrame(t);
        if (Buffer.byteLength(t, "utf8") <= SHORTSTR_BYTES_MAX) {
          writeFrame(w, f);
          written.push(f);
        } else assert.throws(() => writeFrame(w, f), RangeError);
        // a take() in between must not matter either
        if (written.length % 3 === 2) out.push(Buffer.from(w.take()));
      }
      out.push(Buffer.from(w.take()));
      const frames = [...new FrameReader(1 << 20).push(Buffer.concat(out))].map(decodeFrame);
      assert.deepEqual(frames, written);
    }),
  );
});

test("writeContentFrames with a consumer tag over 255 bytes writes nothing", () => {
  const w = new WireWriter(32);
  writeFrame(w, closeFrame("before"));
  const before = w.pending;
  const method = createMethod("basic.deliver", {
    consumerTag: "é".repeat(200),
    deliveryTag: 1n,
    exchange: "",
    routingKey: "q",
  });
  assert.throws(() => writeContentFrames(w, 1, method, 60, Buffer.from([0, 0]), Buffer.from("x"), 4096));
  assert.equal(w.pending, before);
  const frames = [...new FrameReader(4096).push(w.take())].map(decodeFrame);
  assert.deepEqual(frames, [closeFrame("before")]);
});

test("truncateUtf8 keeps the longest whole-character prefix within 255 bytes", () => {
  fc.assert(
    fc.property(fc.oneof(text, fc.string({ unit: "grapheme", maxLength: 400 })), (s) => {
      const t = truncateUtf8(s);
      const bytes = Buffer.byteLength(t, "utf8");
      assert.ok(bytes <= SHORTSTR_BYTES_MAX);
      assert.ok(s.startsWith(t));
      assert.equal(Buffer.from(t, "utf8").toString("utf8"), t, "no half character");
      if (t.length < s.length) {
        const next = s.codePointAt(t.length) as number;
        assert.ok(bytes + Buffer.byteLength(String.fromCodePoint(next)) > SHORTSTR_BYTES_MAX, "maximal");
      }
      // and it always encodes
      assert.doesNotThrow(() => encodeFrame(closeFrame(t)));
    }),
  );
});
