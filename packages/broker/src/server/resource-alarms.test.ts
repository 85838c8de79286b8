// Unit tests for the resource alarms with injected probes: set → clear transitions, reasons, logging once.
// Invariant: no real disk or memory figure decides an outcome here; the probes are scripted.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemoryAccount } from "../lib/index.ts";
import { RecordingLogger } from "../testing/index.ts";
import { ResourceAlarms, systemProbes } from "./resource-alarms.ts";

type Script = { free: number | Error; rss: number };

function monitor(script: Script, intervalMs?: number) {
  const logger = new RecordingLogger();
  const changes: (string | null)[] = [];
  const memory = new MemoryAccount();
  const alarms = new ResourceAlarms({
    diskFreeLimitBytes: 1000,
    memoryHighWatermarkBytes: 5000,
    memory,
    probes: {
      diskFreeBytes: async () => {
        if (script.free instanceof Error) throw script.free;
        return script.free;
      },
      rssBytes: () => script.rss,
    },
    logger,
    onChange: (r) => changes.push(r),
    ...(intervalMs === undefined ? {} : { intervalMs }),
  });
  const messages = () => logger.entries.map((e) => `${e.level} ${e.msg}`);
  return { alarms, changes, messages, memory };
}

const microtasks = () => new Promise((r) => setImmediate(r));

describe("ResourceAlarms", () => {
  test("disk alarm: set below the limit, cleared at or above it, each logged once", async () => {
    const script: Script = { free: 5000, rss: 10 };
    const { alarms, changes, messages } = monitor(script);
    await alarms.check();
    assert.equal(alarms.reason, null);
    script.free = 999;
    await alarms.check();
    await alarms.check();
    assert.equal(alarms.reason, "low on disk");
    script.free = 1000;
    await alarms.check();
    await alarms.check();
    assert.equal(alarms.reason, null);
    assert.deepEqual(changes, ["low on disk", null]);
    assert.deepEqual(messages(), [
      "warn disk alarm set: AMQP publishers are blocked until it clears",
      "info disk alarm cleared",
    ]);
  });

  test("memory alarm: set when accounted bytes pass the watermark; both alarms give RabbitMQ's combined reason", async () => {
    const script: Script = { free: 5000, rss: 0 };
    const { alarms, changes, messages, memory } = monitor(script);
    memory.add("queueWindows", 5001);
    await alarms.check();
    assert.equal(alarms.reason, "low on memory");
    script.free = 1;
    await alarms.check();
    assert.equal(alarms.reason, "low on memory & disk");
    memory.add("queueWindows", -1);
    await alarms.check();
    assert.equal(alarms.reason, "low on disk");
    script.free = 2000;
    await alarms.check();
    assert.deepEqual(changes, ["low on memory", "low on memory & disk", "low on disk", null]);
    assert.deepEqual(messages(), [
      "warn memory alarm set: AMQP publishers are blocked until it clears",
      "warn disk alarm set: AMQP publishers are blocked until it clears",
      "info memory alarm cleared",
      "info disk alarm cleared",
    ]);
  });

  test("memory alarm: raised as soon as accounted bytes pass the watermark, not at the next sample", async () => {
    const { alarms, changes, memory } = monitor({ free: 5000, rss: 0 });
    await alarms.check();
    memory.add("kafkaRequests", 3000);
    memory.add("amqpBodies", 2001);
    await microtasks();
    assert.equal(alarms.reason, "low on memory");
    assert.deepEqual(changes, ["low on memory"]);
  });

  test("memory alarm: RSS that stays high after a burst does not hold it once accounted memory is released", async () => {
    const script: Script = { free: 5000, rss: 100_000 };
    const { alarms, changes, memory } = monitor(script);
    await alarms.check();
    assert.equal(alarms.reason, null, "RSS alone (the allocator keeps what it freed) is no alarm");
    memory.add("queueWindows", 2600);
    await microtasks();
    assert.equal(alarms.reason, "low on memory", "above the watermark, RSS halves the accounted allowance");
    memory.add("queueWindows", -2600);
    await alarms.check();
    assert.equal(alarms.reason, null, "released: cleared though RSS is still high");
    script.rss = 0;
    memory.add("queueWindows", 4000);
    await alarms.check();
    assert.equal(alarms.reason, null, "below the watermark with RSS low too");
    assert.deepEqual(changes, ["low on memory", null]);
  });

  test("an RSS read that fails (EMFILE) leaves the alarm on accounted memory alone, logged once", async () => {
    const logger = new RecordingLogger();
    const memory = new MemoryAccount();
    const alarms = new ResourceAlarms({
      diskFreeLimitBytes: 0,
      memoryHighWatermarkBytes: 5000,
      memory,
      probes: {
        diskFreeBytes: async () => 1,
        rssBytes: () => {
          throw Object.assign(new Error("EMFILE: too many open files"), { code: "EMFILE" });
        },
      },
      logger,
      onChange: () => {},
    });
    await alarms.check();
    memory.add("amqpBodies", 5001);
    await microtasks();
    await alarms.check();
    assert.equal(alarms.reason, "low on memory");
    assert.deepEqual(
      logger.entries.map((e) => e.msg),
      [
        "cannot read the process's RSS; the memory alarm follows accounted memory alone",
        "memory alarm set: AMQP publishers are blocked until it clears",
      ],
    );
  });

  test("a failing statfs keeps the last disk state and is logged once", async () => {
    const script: Script = { free: 1, rss: 0 };
    const { alarms, changes, messages } = monitor(script);
    await alarms.check();
    script.free = new Error("EIO");
    await alarms.check();
    await alarms.check();
    assert.equal(alarms.reason, "low on disk");
    script.free = 10_000;
    await alarms.check();
    assert.deepEqual(changes, ["low on disk", null]);
    assert.deepEqual(messages(), [
      "warn disk alarm set: AMQP publishers are blocked until it clears",
      "warn cannot check free disk space",
      "info disk alarm cleared",
    ]);
  });

  test("concurrent checks share one sample", async () => {
    let samples = 0;
    const alarms = new ResourceAlarms({
      diskFreeLimitBytes: 0,
      memoryHighWatermarkBytes: Number.MAX_SAFE_INTEGER,
      memory: new MemoryAccount(),
      probes: { diskFreeBytes: async () => ++samples, rssBytes: () => 0 },
      logger: new RecordingLogger(),
      onChange: () => {},
    });
    await Promise.all([alarms.check(), alarms.check(), alarms.check()]);
    assert.equal(samples, 1);
  });

  test("the periodic timer samples until stopped", async () => {
    const script: Script = { free: 5000, rss: 0 };
    const { alarms: m, changes } = monitor(script, 5);
    m.start();
    script.free = 1;
    await waitFor(() => m.reason === "low on disk");
    script.free = 5000;
    await waitFor(() => m.reason === null);
    m.stop();
    assert.deepEqual(changes, ["low on disk", null]);
  });

  test("writes since the last sample raise the disk alarm at once, with one statfs per crossing", async () => {
    let samples = 0;
    const script: Script = { free: 5000, rss: 0 };
    const logger = new RecordingLogger();
    const changes: (string | null)[] = [];
    const alarms = new ResourceAlarms({
      diskFreeLimitBytes: 1000,
      memoryHighWatermarkBytes: Number.MAX_SAFE_INTEGER,
      memory: new MemoryAccount(),
      probes: {
        diskFreeBytes: async () => {
          samples++;
          return script.free as number;
        },
        rssBytes: () => 0,
      },
      logger,
      onChange: (r) => changes.push(r),
    });
    alarms.noteWritten(10_000); // before the first sample free space is unknown: nothing is checked
    assert.equal(samples, 0);
    await alarms.check();
    for (let i = 0; i < 40; i++) alarms.noteWritten(100); // 5000 - 4000 is still at the limit
    assert.equal(samples, 1, "no statfs per write");
    script.free = 900; // what the writes left
    alarms.noteWritten(100);
    alarms.noteWritten(100); // joins the check under way
    await waitFor(() => alarms.reason === "low on disk");
    assert.equal(samples, 2);
    assert.deepEqual(changes, ["low on disk"]);
    alarms.noteWritten(1_000_000); // raised already: the timer clears it, writes do not sample
    assert.equal(samples, 2);
  });

  test("the system probes read the filesystem and the process", async () => {
    const probes = systemProbes(".");
    assert.ok((await probes.diskFreeBytes()) > 0);
    assert.ok(probes.rssBytes() > 0);
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    assert.ok(Date.now() < deadline, "condition within 5 s");
    await new Promise((r) => setTimeout(r, 5));
  }
}
