// Unit tests for WireWriter.take(): each call hands out exactly the bytes written since the last one,
// writing goes on in the same buffer, and bytes handed out are never overwritten (also when it grows).

import assert from "node:assert/strict";
import { test } from "node:test";
import { WireWriter } from "./wire-writer.ts";

test("take() hands out what was written since the last take and never touches it again", () => {
  const w = new WireWriter(16);
  const taken: [Buffer, Buffer][] = [];
  for (let round = 0; round < 200; round++) {
    const n = (round * 7) % 41;
    const bytes = Buffer.alloc(n, round % 256);
    if (round % 3 === 0) w.shortstr("é".repeat(n % 5) + "x".repeat(n % 9));
    w.bytes(bytes);
    w.u32(round);
    const out = w.take();
    taken.push([out, Buffer.from(out)]);
    assert.equal(w.pending, 0);
  }
  for (const [view, copy] of taken) assert.deepEqual(view, copy, "a taken view was overwritten");
});

test("a frame being written when the buffer grows keeps its placeholder position", () => {
  const w = new WireWriter(8);
  w.u8(1);
  w.take();
  const at = w.placeholderU32();
  w.bytes(Buffer.alloc(100, 2));
  w.patchU32(at, 100);
  const out = w.take();
  assert.equal(out.length, 104);
  assert.equal(out.readUInt32BE(0), 100);
});

test("rewind() writes over the front of the same buffer, and only with nothing pending", () => {
  const w = new WireWriter(64);
  w.bytes(Buffer.alloc(40, 1));
  const first = w.take();
  w.rewind();
  w.bytes(Buffer.alloc(40, 2));
  const second = w.take();
  assert.equal(second.buffer, first.buffer, "no new buffer after rewind");
  assert.equal(second.byteOffset, first.byteOffset);
  assert.deepEqual(second, Buffer.alloc(40, 2));
  w.u8(3);
  assert.throws(() => w.rewind(), RangeError);
});
