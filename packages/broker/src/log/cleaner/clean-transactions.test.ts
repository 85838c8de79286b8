// The cleaner with Kafka transactions: aborted batches go and never hide a committed value, a marker stays
// while its transaction has data and then until delete.retention.ms, and nothing past the last stable
// offset is cleaned.

import assert from "node:assert/strict";
import { test } from "node:test";
import { CONTROL_FLAG, encodeRecordBatch, TRANSACTIONAL_FLAG } from "@spindle/protocol";
import { crc32c } from "../../lib/index.ts";
import { COMPACT, openLog, put, readAllRecords } from "../../testing/compaction.ts";
import { FakeClock, tempDir } from "../../testing/index.ts";
import type { FileLog } from "../file-log.ts";
import { cleanLog } from "./clean-log.ts";
import { OffsetMap } from "./offset-map.ts";
import type { TransactionView } from "./transactions.ts";

function txnData(log: FileLog, clock: FakeClock, producerId: number, key: string, value: string) {
  const records = [{ key: Buffer.from(key), value: Buffer.from(value.padEnd(40, ".")) }];
  const batch = encodeRecordBatch(
    {
      records,
      timestamp: clock.nowMs(),
      attributes: TRANSACTIONAL_FLAG,
      producerId,
      producerEpoch: 0,
      baseSequence: 0,
    },
    crc32c,
  );
  return log.append(batch);
}

function marker(log: FileLog, clock: FakeClock, producerId: number, commit: boolean) {
  const key = Buffer.alloc(4);
  key.writeInt16BE(commit ? 1 : 0, 2);
  const value = Buffer.alloc(6);
  const batch = encodeRecordBatch(
    {
      records: [{ key, value }],
      timestamp: clock.nowMs(),
      attributes: TRANSACTIONAL_FLAG | CONTROL_FLAG,
      producerId,
      producerEpoch: 0,
      baseSequence: -1,
    },
    crc32c,
  );
  return log.append(batch);
}

/** Markers are control records: read them back by their batches' offsets. */
async function markerOffsets(log: FileLog): Promise<number[]> {
  const out: number[] = [];
  let offset = log.startOffset;
  while (offset < log.endOffset) {
    const { data, nextOffset } = await log.read(offset, 1 << 16);
    for (let at = 0; at < data.length; at += 12 + data.readInt32BE(at + 8)) {
      if ((data.readInt16BE(at + 21) & CONTROL_FLAG) !== 0) out.push(Number(data.readBigInt64BE(at)));
    }
    offset = nextOffset;
  }
  return out;
}

test("aborted batches are dropped and never hide a committed value; markers go once their data has gone", async () => {
  const clock = new FakeClock(1_000_000);
  const log = await openLog(tempDir("txn"), clock);
  await txnData(log, clock, 1, "a", "committed-a"); // 0
  await txnData(log, clock, 1, "b", "committed-b"); // 1
  await marker(log, clock, 1, true); // 2: commit
  await txnData(log, clock, 2, "a", "aborted-a"); // 3
  await marker(log, clock, 2, false); // 4: abort
  for (let i = 0; i < 40; i++) await put(log, clock, `k${i % 4}`, `v${i}`, i);
  const view: TransactionView = {
    lastStableOffset: (hw) => hw,
    abortedIn: (from, to) => (from <= 4 && to > 3 ? [{ producerId: 2, firstOffset: 3, lastOffset: 4 }] : []),
  };
  const cfg = { ...COMPACT, transactions: view };
  await cleanLog(log, cfg, new OffsetMap(1 << 20), { nowMs: clock.nowMs() });
  const recs = await readAllRecords(log);
  const a = recs.filter((r) => r.key === "a");
  assert.deepEqual(
    a.map((r) => [r.offset, r.value?.replace(/\.+$/, "")]),
    [[0, "committed-a"]],
  );
  assert.equal(recs.filter((r) => r.key === "b").length, 1);
  assert.deepEqual(await markerOffsets(log), [2, 4], "markers stay until delete.retention.ms");

  // b is overwritten outside the transaction; then the commit has data left (a), the abort has none
  await put(log, clock, "b", "plain-b", 0);
  clock.advance(COMPACT.deleteRetentionMs + 10);
  for (let i = 0; i < 40; i++) await put(log, clock, `k${i % 4}`, `w${i}`, i);
  await cleanLog(log, cfg, new OffsetMap(1 << 20), { nowMs: clock.nowMs() });
  assert.deepEqual(await markerOffsets(log), [2], "the abort marker went; the commit's data (a) keeps it");

  await put(log, clock, "a", "plain-a", 0);
  clock.advance(COMPACT.deleteRetentionMs + 10);
  for (let i = 0; i < 40; i++) await put(log, clock, `k${i % 4}`, `x${i}`, i);
  await cleanLog(log, cfg, new OffsetMap(1 << 20), { nowMs: clock.nowMs() });
  assert.deepEqual(await markerOffsets(log), [], "no data of the commit is left: its marker goes too");
  await log.close();
});

test("nothing at or past the last stable offset is cleaned", async () => {
  const clock = new FakeClock(1_000_000);
  const log = await openLog(tempDir("lso"), clock);
  for (let i = 0; i < 30; i++) await put(log, clock, `k${i % 3}`, `v${i}`, i);
  await txnData(log, clock, 7, "open", "undecided"); // offset 30: its transaction is still open
  for (let i = 0; i < 30; i++) await put(log, clock, `k${i % 3}`, `w${i}`, i);
  const view: TransactionView = { lastStableOffset: () => 30, abortedIn: () => [] };
  const r = await cleanLog(log, { ...COMPACT, transactions: view }, new OffsetMap(1 << 20), {
    nowMs: clock.nowMs(),
  });
  assert.ok(r !== null && r.cleanedTo <= 30, `cleaned only below the LSO (to ${r?.cleanedTo})`);
  const recs = await readAllRecords(log);
  assert.ok(
    recs.some((x) => x.offset === 30),
    "the open transaction's batch is there",
  );
  assert.equal(recs.filter((x) => x.offset > 30).length, 30, "nothing past it was cleaned");
  await log.close();
});
