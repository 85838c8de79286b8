// Unit tests for durable settlement: out-of-order acks survive recovery; acks of messages lost in a
// crash never swallow the offsets that new messages get afterwards; the delivered mark and requeue
// counts survive too (through checkpoints), clamped the same way; old ack logs replay as before; settles a
// full disk refused are written once it has room.

import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeRecords, readBatchHeader } from "@spindle/protocol";
import { silentLogger } from "../lib/index.ts";
import { DEFAULT_LOG_CONFIG, FileLog, MemoryLog } from "../log/index.ts";
import { FakeClock, FaultFs } from "../testing/index.ts";
import { SettleState } from "./settle-state.ts";

const newLog = () => new MemoryLog({ ...DEFAULT_LOG_CONFIG, retentionMs: -1 }, new FakeClock());

test("out-of-order settles are recovered", async () => {
  const acks = newLog();
  const s = await SettleState.recover(acks, 0, 10, silentLogger);
  for (const o of [0, 1, 3, 7]) s.settle(o);
  assert.equal(s.lowWater, 2);
  await s.drain();
  const r = await SettleState.recover(acks, 0, 10, silentLogger);
  assert.equal(r.lowWater, 2);
  assert.deepEqual(
    [2, 3, 4, 7].map((o) => r.isSettled(o)),
    [false, true, false, true],
  );
  assert.equal(r.countFrom(2), 2);
});

test("acks beyond the recovered message log are dropped for good", async () => {
  const acks = newLog();
  const s = await SettleState.recover(acks, 0, 10, silentLogger);
  for (const o of [0, 1, 2, 5, 6]) s.settle(o);
  await s.drain();
  // the crash kept messages 0..3 only
  const afterCrash = await SettleState.recover(acks, 0, 4, silentLogger);
  assert.equal(afterCrash.lowWater, 3);
  assert.equal(afterCrash.isSettled(5), false);
  // new messages took offsets 4..9; the old acks of 5 and 6 must not come back
  const later = await SettleState.recover(acks, 0, 10, silentLogger);
  assert.equal(later.isSettled(5), false);
  assert.equal(later.isSettled(6), false);
  assert.equal(later.isSettled(2), true);
});

test("the delivered mark and requeue counts are recovered, also from a checkpoint", async () => {
  const acks = newLog();
  const s = await SettleState.recover(acks, 0, 100, silentLogger);
  assert.equal(s.deliveredEnd, 0);
  for (const o of [0, 1, 2, 5]) s.delivered(o);
  s.delivered(3); // below the mark: nothing moves
  s.requeued(2, 1);
  s.requeued(2, 2);
  s.requeued(5, 1);
  s.settle(0);
  await s.drain();
  const r = await SettleState.recover(acks, 0, 100, silentLogger);
  assert.equal(r.deliveredEnd, 6);
  assert.deepEqual(
    [1, 2, 3, 5].map((o) => r.requeuesOf(o)),
    [0, 2, 0, 1],
  );
  // settling an offset drops its count for good
  r.settle(5);
  // enough settles for a checkpoint, which drops every older record
  for (let o = 6; o < 50_010; o++) r.settle(o);
  r.delivered(7);
  await r.drain();
  // only the last checkpoint's records are left: the checkpoint, the delivered mark, the counts
  assert.equal(acks.endOffset - acks.startOffset, 3);
  const c = await SettleState.recover(acks, 0, 60_000, silentLogger);
  assert.equal(c.lowWater, 1);
  assert.equal(c.deliveredEnd, 8);
  assert.equal(c.requeuesOf(2), 2);
  assert.equal(c.requeuesOf(5), 0);
});

test("the delivered mark and requeue counts are clamped to the recovered message log", async () => {
  const acks = newLog();
  const s = await SettleState.recover(acks, 0, 10, silentLogger);
  for (let o = 0; o < 8; o++) s.delivered(o);
  s.requeued(2, 1);
  s.requeued(6, 3);
  await s.drain();
  // the crash kept messages 0..3 only
  const afterCrash = await SettleState.recover(acks, 0, 4, silentLogger);
  assert.equal(afterCrash.deliveredEnd, 4);
  assert.equal(afterCrash.requeuesOf(2), 1);
  assert.equal(afterCrash.requeuesOf(6), 0);
  // new messages took offsets 4..9, never delivered: the old state must not come back for them
  const later = await SettleState.recover(acks, 0, 10, silentLogger);
  assert.equal(later.deliveredEnd, 4);
  assert.equal(later.requeuesOf(6), 0);
  assert.equal(later.requeuesOf(2), 1);
});

test("an ack log written before delivery state was kept replays as it did", async () => {
  const acks = newLog();
  const record = (kind: number, values: number[]) => {
    const b = Buffer.alloc(1 + values.length * 8);
    b[0] = kind;
    for (const [i, v] of values.entries()) b.writeDoubleLE(v, 1 + i * 8);
    return { value: b };
  };
  // the old format: acks (kind 0) and a checkpoint [lowWater, ...settled] (kind 1)
  await acks.appendRecords([record(0, [0, 1, 4])]);
  await acks.appendRecords([record(1, [2, 4, 6])]);
  await acks.appendRecords([record(0, [2, 9])]);
  const r = await SettleState.recover(acks, 0, 10, silentLogger);
  assert.equal(r.lowWater, 3);
  assert.deepEqual(
    [3, 4, 5, 6, 7, 9].map((o) => r.isSettled(o)),
    [false, true, false, true, false, true],
  );
  assert.equal(r.deliveredEnd, 0);
  assert.equal(r.requeuesOf(3), 0);
});

test("the new records are skipped by a reader that takes every other kind for acks", async () => {
  const acks = newLog();
  const s = await SettleState.recover(acks, 0, 100, silentLogger);
  for (let o = 0; o < 20; o++) s.delivered(o);
  s.requeued(7, 2);
  s.settle(0);
  await s.drain();
  // what the previous build's replay did with any record that is not a checkpoint
  const settledByOldReader: number[] = [];
  const read = await acks.read(acks.startOffset, 1 << 20);
  for (let pos = 0; pos < read.data.length; ) {
    const h = readBatchHeader(read.data, pos);
    for (const r of decodeRecords(read.data.subarray(pos, pos + h.batchLength + 12))) {
      const v = r.value as Buffer;
      if (v[0] === 1) continue;
      for (let at = 1; at + 8 <= v.length; at += 8) {
        const o = v.readDoubleLE(at);
        if (o >= 0) settledByOldReader.push(o);
      }
    }
    pos += h.batchLength + 12;
  }
  assert.deepEqual(settledByOldReader, [0]);
});

test("settles the ack log refused for a full disk are written once it has room again", async () => {
  const fs = new FaultFs();
  const ackLog = await FileLog.open({
    fs,
    dir: "/q/acks",
    config: { ...DEFAULT_LOG_CONFIG, retentionMs: -1 },
    clock: new FakeClock(),
    logger: silentLogger,
  });
  const s = await SettleState.recover(ackLog, 0, 100, silentLogger);
  s.settle(0);
  await s.drain();
  fs.capacityBytes = fs.usedBytes() + 5;
  s.settle(1);
  s.settle(5);
  s.delivered(7);
  await s.drain(); // refused: kept for later, not dropped
  assert.equal((await SettleState.recover(await snapshotOf(fs), 0, 100, silentLogger)).isSettled(5), false);
  fs.capacityBytes = Number.POSITIVE_INFINITY;
  const deadline = Date.now() + 5000;
  for (;;) {
    const r = await SettleState.recover(await snapshotOf(fs), 0, 100, silentLogger);
    if (r.isSettled(5)) {
      assert.equal(r.lowWater, 2);
      assert.equal(r.deliveredEnd, 8);
      break;
    }
    assert.ok(Date.now() < deadline, "the refused settles were written within 5 s");
    await new Promise((r) => setTimeout(r, 20));
  }
  await ackLog.close();
});

/** The ack log as a restart would find it now (a copy, so the running one is not disturbed). */
function snapshotOf(fs: FaultFs): Promise<FileLog> {
  return FileLog.open({
    fs: fs.clone(),
    dir: "/q/acks",
    config: { ...DEFAULT_LOG_CONFIG, retentionMs: -1 },
    clock: new FakeClock(),
    logger: silentLogger,
  });
}

test("a delivery's mark is in the ack log once markWritten resolves, without waiting for the 5 ms flush", async () => {
  const acks = newLog();
  const s = await SettleState.recover(acks, 0, 10, silentLogger);
  assert.equal(s.markWritten, undefined, "nothing handed out, nothing to wait for");
  s.delivered(3);
  s.delivered(4);
  const written = s.markWritten;
  assert.ok(written !== undefined, "the frames of this turn's deliveries have something to wait for");
  await written;
  // what a restart right now (the process died in the handler) reads back: both count as handed out
  const r = await SettleState.recover(acks, 0, 10, silentLogger);
  assert.equal(r.deliveredEnd, 5);
  assert.equal(s.markWritten, undefined);
  s.delivered(2);
  assert.equal(s.markWritten, undefined, "below the mark already written: nothing to wait for");
});
