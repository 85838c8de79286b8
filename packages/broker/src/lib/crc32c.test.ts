// The protocol package's pure-JS CRC32C and the native one the broker uses must agree bit for bit,
// since a batch encoded by one is validated by the other.
import assert from "node:assert/strict";
import { it } from "node:test";
import { crc32cJs } from "@spindle/protocol";
import fc from "fast-check";
import { crc32c } from "./crc32c.ts";

it("JS and native CRC32C agree", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 5000 }),
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      (data, init) => {
        const buf = Buffer.from(data);
        assert.equal(crc32cJs(buf), crc32c(buf));
        assert.equal(crc32cJs(buf, init), crc32c(buf, init));
      },
    ),
  );
});
