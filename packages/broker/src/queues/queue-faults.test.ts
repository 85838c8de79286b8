// Faults under a queue that no client is waiting on: a failed read from its log and a failed trim are
// logged and counted (they were swallowed), and delivery goes on once the log reads again.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RecordInput } from "@spindle/protocol";
import { DEFAULT_LOG_CONFIG, type Log, MemoryLog, type ReadResult } from "../log/index.ts";
import { FakeClock, RecordingLogger } from "../testing/index.ts";
import type { QueueConsumer } from "./consumer.ts";
import { createMessage, type QueuedMessage } from "./message.ts";
import { Queue, type QueueOptions } from "./queue.ts";
import { parseQueuePolicy } from "./queue-policy.ts";
import { PendingBudget } from "./ready-list.ts";
import { SettleState } from "./settle-state.ts";

/** A MemoryLog whose reads or trims fail with EIO while told to, as a failing disk would. */
class FlakyLog implements Log {
  failReads = false;
  failTrims = false;
  constructor(private readonly inner: MemoryLog) {}
  private eio(what: string): Error {
    return Object.assign(new Error(`EIO: injected ${what} failure`), { code: "EIO" });
  }
  get startOffset() {
    return this.inner.startOffset;
  }
  get endOffset() {
    return this.inner.endOffset;
  }
  get sizeBytes() {
    return this.inner.sizeBytes;
  }
  get segmentCount() {
    return this.inner.segmentCount;
  }
  get maxTimestamp() {
    return this.inner.maxTimestamp;
  }
  get damage() {
    return this.inner.damage;
  }
  append(batch: Buffer) {
    return this.inner.append(batch);
  }
  appendRecords(records: readonly RecordInput[], timestampMs?: number) {
    return this.inner.appendRecords(records, timestampMs);
  }
  async read(offset: number, maxBytes: number): Promise<ReadResult> {
    if (this.failReads) throw this.eio("read");
    return this.inner.read(offset, maxBytes);
  }
  offsetForTimestamp(timestampMs: number) {
    return this.inner.offsetForTimestamp(timestampMs);
  }
  async deleteRecordsBefore(offset: number): Promise<void> {
    if (this.failTrims) throw this.eio("trim");
    return this.inner.deleteRecordsBefore(offset);
  }
  enforceRetention() {
    return this.inner.enforceRetention();
  }
  writable() {
    return this.inner.writable();
  }
  flush() {
    return this.inner.flush();
  }
  close() {
    return this.inner.close();
  }
}

const clock = new FakeClock();
const opts: QueueOptions = { name: "q", durable: true, exclusiveOwner: null, autoDelete: false, args: {} };
const message = (i: number) =>
  createMessage({
    exchange: "",
    routingKey: "q",
    properties: Buffer.alloc(0),
    body: Buffer.from(`m${i}`),
    persistent: true,
  });
const queueOn = (log: Log, logger: RecordingLogger, recovered: boolean) =>
  new Queue(
    opts,
    parseQueuePolicy("q", {}),
    log,
    SettleState.fresh(0),
    clock,
    new PendingBudget(1 << 30),
    recovered,
    logger,
  );

function collector(got: QueuedMessage[]): QueueConsumer {
  return { tag: "c", noAck: true, ready: () => true, deliver: (m) => got.push(m), cancelledByQueue() {} };
}

const turn = () => new Promise((r) => setImmediate(r));

describe("queue faults without a client to tell", () => {
  it("a failed read is logged and counted, and delivery goes on once the log reads again", async () => {
    const log = new FlakyLog(new MemoryLog(DEFAULT_LOG_CONFIG, clock));
    const first = queueOn(log, new RecordingLogger(), false);
    await Promise.all([0, 1, 2, 3, 4].map((i) => first.enqueue(message(i))));
    // the same log opened again, as after a restart: its messages are read back from the log
    const logger = new RecordingLogger();
    const q = queueOn(log, logger, true);
    log.failReads = true;
    const got: QueuedMessage[] = [];
    q.addConsumer(collector(got));
    await turn();
    assert.equal(q.faults.readErrors, 1);
    const line = logger.entries.find((e) => e.level === "error");
    assert.ok(line && /reading messages from its log failed/.test(line.msg), JSON.stringify(logger.entries));
    assert.equal(got.length, 0);
    log.failReads = false;
    q.drain();
    await turn();
    assert.deepEqual(
      got.map((m) => m.message.body.toString()),
      ["m0", "m1", "m2", "m3", "m4"],
    );
  });

  it("a failed trim of settled segments is logged and counted", async () => {
    const log = new FlakyLog(new MemoryLog(DEFAULT_LOG_CONFIG, clock));
    const logger = new RecordingLogger();
    const q = queueOn(log, logger, false);
    log.failTrims = true;
    const stored: Promise<void>[] = [];
    for (let i = 0; i < 10_000; i++) stored.push(q.enqueue(message(i)) as Promise<void>);
    await Promise.all(stored);
    for (let i = 0; i < 10_000; i++) assert.ok(await q.get(true));
    await turn();
    assert.equal(q.faults.trimErrors, 1);
    assert.ok(
      logger.entries.some((e) => e.level === "error" && /deleting settled segments failed/.test(e.msg)),
    );
  });
});
