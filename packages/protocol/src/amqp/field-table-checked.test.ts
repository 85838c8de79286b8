// Tests checkedFieldTable and decodeFrameLazy: the check without building a value accepts and refuses exactly
// the bytes decodeFieldTable does, with the same error, and hands back the table's bytes unchanged.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { checkedFieldTable, decodeFieldTable, encodeFieldTable } from "./field-table.ts";
import { decodeFrame, decodeFrameLazy, encodeFrame } from "./frame.ts";
import { FRAME_HEADER } from "./generated/constants.ts";
import { fieldTable } from "./testing/arbitraries.ts";
import { WireReader } from "./wire-reader.ts";
import { WireWriter } from "./wire-writer.ts";

function enc(t: Parameters<typeof encodeFieldTable>[1]): Buffer {
  const w = new WireWriter(16);
  encodeFieldTable(w, t);
  return Buffer.from(w.finish());
}

/** What reading `bytes` as a table does: the bytes consumed, or the error's message. */
function outcome(bytes: Buffer, read: (r: WireReader) => unknown): string {
  const r = new WireReader(bytes, "test table");
  try {
    read(r);
    return `ok ${r.offset}`;
  } catch (e) {
    return `error ${(e as Error).message}`;
  }
}

describe("checkedFieldTable", () => {
  it("returns a well-formed table's bytes, its length included, and steps over them", () => {
    fc.assert(
      fc.property(fieldTable, (t) => {
        const bytes = enc(t);
        const r = new WireReader(Buffer.concat([bytes, Buffer.from([9])]), "test table");
        assert.deepEqual(checkedFieldTable(r), bytes);
        assert.equal(r.offset, bytes.length);
        assert.deepEqual(enc(decodeFieldTable(new WireReader(bytes, "again"))), bytes);
      }),
    );
  });

  it("accepts and refuses the same bytes as decodeFieldTable, with the same error", () => {
    // damaged tables: cut short, a byte changed (tags, lengths), or random bytes
    const damaged = fc.oneof(
      fc.tuple(fieldTable, fc.nat()).map(([t, n]) => {
        const b = enc(t);
        return b.subarray(0, n % (b.length + 1));
      }),
      fc.tuple(fieldTable, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([t, at, v]) => {
        const b = enc(t);
        b[at % b.length] = v;
        return b;
      }),
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(damaged, (bytes) => {
        assert.equal(
          outcome(bytes, (r) => checkedFieldTable(r)),
          outcome(bytes, (r) => decodeFieldTable(r)),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses what decodeFieldTable refuses inside nested values", () => {
    const unknownTag = Buffer.from([0, 0, 0, 3, 1, 0x6b, 0x5a]); // {k: <tag 'Z'>}
    const shortDecimal = Buffer.from([0, 0, 0, 6, 1, 0x6b, 0x44, 2, 0, 0]); // D with 2 of its 4 digit bytes
    for (const b of [unknownTag, shortDecimal]) {
      const got = outcome(b, (r) => checkedFieldTable(r));
      assert.match(got, /^error /);
      assert.equal(
        got,
        outcome(b, (r) => decodeFieldTable(r)),
      );
    }
  });
});

describe("decodeFrameLazy", () => {
  it("keeps a content header's table as its bytes; everything else as decodeFrame gives it", () => {
    fc.assert(
      fc.property(
        fieldTable,
        fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        (headers, type) => {
          const raw = encodeFrame({
            type: "header",
            channel: 1,
            classId: 60,
            weight: 0,
            bodySize: 5,
            properties: {
              contentType: "text/plain",
              headers,
              deliveryMode: 2,
              ...(type === undefined ? {} : { type }),
            },
          });
          const frame = { type: FRAME_HEADER, channel: 1, payload: raw.subarray(7, raw.length - 1) };
          const full = decodeFrame(frame);
          const lazy = decodeFrameLazy(frame);
          assert.equal(full.type, "header");
          assert.equal(lazy.type, "header");
          if (full.type !== "header" || lazy.type !== "header") return;
          const { headers: table, ...rest } = lazy.properties;
          const { headers: built, ...fullRest } = full.properties;
          assert.deepEqual(rest, fullRest);
          assert.equal(lazy.bodySize, full.bodySize);
          assert.deepEqual(decodeFieldTable(new WireReader(table as Buffer, "t")), built);
        },
      ),
    );
  });
});
