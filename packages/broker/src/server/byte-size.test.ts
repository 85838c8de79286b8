// Unit tests for byte sizes and memory watermarks as RabbitMQ's disk_free_limit and vm_memory_high_watermark take them.
// Invariant: pure parsing, no I/O.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseByteSize, parseMemoryWatermark, watermarkBytes } from "./byte-size.ts";

describe("parseByteSize", () => {
  test("plain bytes", () => {
    assert.equal(parseByteSize("0"), 0);
    assert.equal(parseByteSize("1024"), 1024);
    assert.equal(parseByteSize("50000000B"), 50_000_000);
  });

  test("decimal units are powers of 1000, in any case", () => {
    assert.equal(parseByteSize("50MB"), 50_000_000);
    assert.equal(parseByteSize("50mb"), 50_000_000);
    assert.equal(parseByteSize("2kB"), 2000);
    assert.equal(parseByteSize("1GB"), 1e9);
    assert.equal(parseByteSize("1000TB"), 1e15);
    assert.equal(parseByteSize("1.5GB"), 1.5e9);
  });

  test("binary units are powers of 1024", () => {
    assert.equal(parseByteSize("512k"), 512 * 1024);
    assert.equal(parseByteSize("1KiB"), 1024);
    assert.equal(parseByteSize("100M"), 100 * 2 ** 20);
    assert.equal(parseByteSize("2GiB"), 2 * 2 ** 30);
    assert.equal(parseByteSize("1T"), 2 ** 40);
  });

  test("one space between number and unit, and surrounding blanks, are allowed", () => {
    assert.equal(parseByteSize(" 50 MB "), 50_000_000);
  });

  test("anything else is a sentence saying what to write", () => {
    for (const bad of ["", "MB", "-1", "50XB", "1.5", "5 0MB", "0x10", "50MBB", "1e3"]) {
      const r = parseByteSize(bad);
      assert.equal(typeof r, "string", bad);
      assert.match(r as string, /^invalid size/);
    }
    assert.match(parseByteSize("99999999999TB") as string, /too large/);
  });
});

describe("parseMemoryWatermark", () => {
  test("a number from 0 to 1 is a fraction of memory", () => {
    assert.deepEqual(parseMemoryWatermark("0.4"), { fraction: 0.4 });
    assert.deepEqual(parseMemoryWatermark(".6"), { fraction: 0.6 });
    assert.deepEqual(parseMemoryWatermark("1"), { fraction: 1 });
    assert.deepEqual(parseMemoryWatermark("0"), { fraction: 0 });
  });

  test("an integer above 1 or a value with a unit is bytes", () => {
    assert.deepEqual(parseMemoryWatermark("2GB"), { bytes: 2e9 });
    assert.deepEqual(parseMemoryWatermark("1024"), { bytes: 1024 });
    assert.deepEqual(parseMemoryWatermark("1MiB"), { bytes: 2 ** 20 });
  });

  test("anything else is a sentence", () => {
    for (const bad of ["", ".", "1.5", "-0.4", "lots"]) {
      assert.match(String(parseMemoryWatermark(bad)), /^invalid memory watermark/, bad);
    }
  });

  test("watermarkBytes resolves a fraction against the memory available", () => {
    assert.equal(watermarkBytes({ fraction: 0.4 }, 1000), 400);
    assert.equal(watermarkBytes({ bytes: 123 }, 1000), 123);
  });
});
