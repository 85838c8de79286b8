// Helpers for the log cleaner's tests: a small-segment FileLog, keyed appends, every record read back.
// Test support only; reads assert that every read moves forward (the offset chain holds).

import assert from "node:assert/strict";
import { BATCH_LOG_OVERHEAD, readBatchHeader } from "@spindle/protocol";
import { decodeBatchRecords, type Fs, nodeFs, silentLogger } from "../lib/index.ts";
import { type CompactionConfig, DEFAULT_LOG_CONFIG, FileLog } from "../log/index.ts";
import type { FakeClock } from "./fake-clock.ts";

export const COMPACT: CompactionConfig = {
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  deleteRetentionMs: 1000,
};

export async function openLog(dir: string, clock: FakeClock, fs: Fs = nodeFs, over = {}): Promise<FileLog> {
  const config = { ...DEFAULT_LOG_CONFIG, segmentBytes: 1024, retentionMs: -1, ...over };
  return FileLog.open({ fs, dir, config, clock, logger: silentLogger });
}

export interface Rec {
  offset: number;
  key: string | null;
  value: string | null;
}

/** Every record from the start, and every batch's offset range (which must chain densely). */
export async function readAllRecords(log: FileLog): Promise<Rec[]> {
  const out: Rec[] = [];
  let offset = log.startOffset;
  while (offset < log.endOffset) {
    const { data, nextOffset } = await log.read(offset, 1 << 16);
    for (let at = 0; at < data.length; at += BATCH_LOG_OVERHEAD + data.readInt32BE(at + 8)) {
      const batch = data.subarray(at, at + BATCH_LOG_OVERHEAD + data.readInt32BE(at + 8));
      const h = readBatchHeader(batch);
      for (const r of await decodeBatchRecords(batch, 1 << 20)) {
        const o = h.baseOffset + r.offsetDelta;
        if (o >= offset)
          out.push({ offset: o, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null });
      }
    }
    assert.ok(nextOffset > offset, "every read moves forward");
    offset = nextOffset;
  }
  return out;
}

export async function put(
  log: FileLog,
  clock: FakeClock,
  key: string | null,
  value: string | null,
  i: number,
) {
  const k = key === null ? null : Buffer.from(key);
  const v = value === null ? null : Buffer.from(`${value}`.padEnd(40, "."));
  return log.appendRecords([{ key: k, value: v }], clock.nowMs() + (i % 3));
}
