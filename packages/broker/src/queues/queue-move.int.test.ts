// Moving messages between durable queues in a real temp dir (and, for the crash, on FaultFs): order,
// bytes, count and filter, what a consumer of the source gets meanwhile, refusals, restarts and crashes.
// Invariant: each test fails if a moved message is lost, altered, delivered from the source as well, or if
// the source's counts or cursor are left wrong.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { seededRng, silentLogger } from "../lib/index.ts";
import { FakeClock, FaultFs } from "../testing/index.ts";
import { drainIds, idMessage, idOf, queuesOnDisk } from "../testing/queues-on-disk.ts";
import type { QueuedMessage } from "./message.ts";
import type { Queue } from "./queue.ts";
import { type MoveProgress, moveMessages } from "./queue-move.ts";
import { QueueStore } from "./queue-store.ts";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function fill(q: Queue, ids: number[], body?: (id: number) => string): Promise<void> {
  const stored = ids.map((id) => q.enqueue(idMessage(id, body ? { body: body(id) } : {})));
  await Promise.all(stored);
}

describe("moveMessages", () => {
  it("moves every ready message, oldest first, with its properties and body byte for byte", async () => {
    const disk = queuesOnDisk("move");
    const src = await disk.open("dlq");
    const dst = await disk.open("work");
    await fill(src, range(1, 2500));
    const progress: MoveProgress[] = [];
    const done = await moveMessages(src, dst, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(done, { moved: 2500, total: 2500 });
    assert.deepEqual(
      progress.map((p) => p.moved),
      [0, 1000, 2000, 2500],
      "one progress step at the start and one per batch",
    );
    assert.equal(src.messageCount, 0);
    assert.equal(dst.messageCount, 2500);
    const first = (await dst.get(false)) as QueuedMessage;
    assert.deepEqual(first.message.properties, idMessage(1).properties);
    assert.deepEqual(first.message.body, idMessage(1).body);
    assert.equal(first.redelivered, false);
    assert.deepEqual(await drainIds(dst), range(2, 2500));
    await src.close();
    await dst.close();
  });

  it("moves at most `count`, only what the filter accepts, and leaves the rest in order", async () => {
    const disk = queuesOnDisk("move-filter");
    const src = await disk.open("dlq");
    const dst = await disk.open("work");
    await fill(src, range(1, 100), (id) => (id % 10 === 0 ? `retry ${id}` : `keep ${id}`));
    const match = (m: { body: Buffer }) => m.body.includes("retry");
    assert.deepEqual(await moveMessages(src, dst, { count: 4, match }), { moved: 4, total: 4 });
    assert.deepEqual(await drainIds(dst), [10, 20, 30, 40]);
    assert.equal(src.messageCount, 96);
    const left = await drainIds(src);
    assert.deepEqual(
      left,
      range(1, 100).filter((id) => ![10, 20, 30, 40].includes(id)),
    );
    await src.close();
    await dst.close();
  });

  it("leaves unacked messages in the source, and moves one once it is requeued", async () => {
    const disk = queuesOnDisk("move-unacked");
    const src = await disk.open("dlq");
    const dst = await disk.open("work");
    await fill(src, range(1, 3));
    const one = (await src.get(false)) as QueuedMessage;
    assert.equal((await moveMessages(src, dst)).moved, 2);
    assert.equal(src.messageCount, 0);
    src.requeue(one);
    assert.equal((await moveMessages(src, dst)).moved, 1);
    assert.deepEqual(await drainIds(dst), [2, 3, 1]);
    await src.close();
    await dst.close();
  });

  for (const restarted of [false, true])
    it(`never hands a message to a consumer of the source and moves it too (${restarted ? "all in the log after a restart" : "in memory"})`, async () => {
      const disk = queuesOnDisk("move-race");
      let src = await disk.open("dlq");
      // after the restart, 40 MB: more than a queue reads ahead (32 MiB), so the move takes messages that
      // are only in the log while the consumer's reads go on
      await fill(src, range(1, 4000), restarted ? (id) => `${id}`.padEnd(10_000) : undefined);
      if (restarted) {
        await src.close();
        disk.restart();
        src = await disk.open("dlq", {}, true);
      }
      const source = src;
      const dst = await disk.open("work");
      const consumed: number[] = [];
      let unacked: QueuedMessage[] = [];
      source.addConsumer({
        tag: "c",
        noAck: false,
        ready: () => unacked.length < 50,
        deliver: (qm) => {
          consumed.push(idOf(qm));
          unacked.push(qm);
        },
        cancelledByQueue: () => undefined,
      });
      // acks arrive between the move's batches, as they would from a client
      const acking = setInterval(() => {
        const batch = unacked;
        unacked = [];
        for (const qm of batch) source.ack(qm);
      }, 1);
      const { moved } = await moveMessages(source, dst, { batchMessages: 100 });
      clearInterval(acking);
      for (const qm of unacked) source.ack(qm);
      const movedIds = await drainIds(dst);
      assert.equal(movedIds.length, moved);
      const both = movedIds.filter((id) => consumed.includes(id));
      assert.deepEqual(both, [], "delivered and moved");
      assert.deepEqual(
        [...consumed, ...movedIds].sort((a, b) => a - b),
        range(1, 4000),
        "each message either consumed or moved",
      );
      assert.ok(
        moved > 0 && consumed.length > 0,
        `both got some: moved ${moved}, consumed ${consumed.length}`,
      );
      await src.close();
      await dst.close();
    });

  it("after a restart, moves what is only in the log; the source keeps delivering and counting right", async () => {
    const disk = queuesOnDisk("move-restart");
    let src = await disk.open("dlq");
    await fill(src, range(1, 3000));
    await src.close();
    disk.restart();
    src = await disk.open("dlq", {}, true);
    const dst = await disk.open("work");
    assert.equal((await moveMessages(src, dst, { count: 2000 })).moved, 2000);
    assert.equal(src.messageCount, 1000);
    await fill(src, [3001]);
    assert.deepEqual(await drainIds(src), range(2001, 3001));
    assert.deepEqual(await drainIds(dst), range(1, 2000));
    await src.close();
    await dst.close();
  });

  it("moved messages stay moved after a restart", async () => {
    const disk = queuesOnDisk("move-durable");
    let src = await disk.open("dlq");
    let dst = await disk.open("work");
    await fill(src, range(1, 12_000));
    assert.equal((await moveMessages(src, dst)).moved, 12_000);
    await src.close();
    await dst.close();
    disk.restart();
    src = await disk.open("dlq", {}, true);
    dst = await disk.open("work", {}, true);
    assert.equal(src.messageCount, 0);
    assert.deepEqual(await drainIds(src), []);
    assert.deepEqual(await drainIds(dst), range(1, 12_000));
    await src.close();
    await dst.close();
  });

  it("stops where the destination refuses (x-overflow reject-publish): the rest stays in the source", async () => {
    const disk = queuesOnDisk("move-refused");
    const src = await disk.open("dlq");
    const dst = await disk.open("work", { "x-max-length": 3, "x-overflow": "reject-publish" });
    await fill(src, range(1, 10));
    await assert.rejects(
      moveMessages(src, dst, { batchMessages: 2 }),
      /refused a message .* after 3 were moved/,
    );
    assert.equal(src.messageCount, 7);
    assert.deepEqual(await drainIds(src), range(4, 10), "given back in order");
    assert.deepEqual(await drainIds(dst), [1, 2, 3]);
    await src.close();
    await dst.close();
  });

  it("keeps a priority source's order for what it does not move", async () => {
    const disk = queuesOnDisk("move-priority");
    const src = await disk.open("dlq", { "x-max-priority": 5 });
    const dst = await disk.open("work");
    for (let id = 1; id <= 20; id++) src.enqueue(idMessage(id, { priority: id % 3 }));
    await src.enqueue(idMessage(21, { priority: 0 }));
    const match = (m: { routingKey: string }) => Number(m.routingKey) % 2 === 0;
    assert.equal((await moveMessages(src, dst, { match })).moved, 10);
    const expected = range(1, 21)
      .filter((id) => id % 2 === 1)
      .sort((a, b) => (b % 3) - (a % 3) || a - b);
    assert.deepEqual(await drainIds(src), expected);
    await src.close();
    await dst.close();
  });

  it("settles nothing in the source that the destination did not store (a full disk)", async () => {
    const fs = new FaultFs();
    const store = new QueueStore({
      fs,
      dir: "/q",
      clock: new FakeClock(),
      logger: silentLogger,
      fsync: { mode: "group" },
    });
    const opts = (name: string) => ({
      name,
      durable: true,
      exclusiveOwner: null,
      autoDelete: false,
      args: {},
    });
    const src = await store.open(opts("dlq"), false);
    const dst = await store.open(opts("work"), false);
    await fill(src, range(1, 100));
    fs.capacityBytes = fs.usedBytes() + 10;
    await assert.rejects(moveMessages(src, dst), (e: Error & { code?: string }) => e.code === "DISK_FULL");
    assert.equal(src.messageCount, 100, "every message given back");
    fs.capacityBytes = Number.POSITIVE_INFINITY;
    let moved = 0;
    for (let i = 0; i < 100 && moved === 0; i++) {
      await new Promise((r) => setTimeout(r, 20)); // until the destination's log takes appends again
      moved = await moveMessages(src, dst).then(
        (r) => r.moved,
        () => 0,
      );
    }
    assert.equal(moved, 100);
    const got = new Set(await drainIds(dst));
    assert.deepEqual(
      range(1, 100).filter((id) => !got.has(id)),
      [],
      "all there (some twice: the refused batch is written once the disk has room)",
    );
    await src.close();
    await dst.close();
  });

  it("refuses to move a queue to itself", async () => {
    const disk = queuesOnDisk("move-self");
    const q = await disk.open("q");
    await assert.rejects(moveMessages(q, q), /to itself/);
    await q.close();
  });

  it("a crash in the middle loses nothing: each message is in the source or the destination", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const fs = new FaultFs();
      const clock = new FakeClock();
      const store = (f: FaultFs) =>
        new QueueStore({ fs: f, dir: "/q", clock, logger: silentLogger, fsync: { mode: "group" } });
      const opts = (name: string) => ({
        name,
        durable: true,
        exclusiveOwner: null,
        autoDelete: false,
        args: {},
      });
      const before = store(fs);
      const src = await before.open(opts("dlq"), false);
      const dst = await before.open(opts("work"), false);
      await fill(src, range(1, 3000));
      let crashed: FaultFs | undefined;
      const crashAfter = 1 + (seed % 3);
      await moveMessages(src, dst, {
        batchMessages: 500,
        onProgress: (p) => {
          if (p.moved === crashAfter * 500) {
            crashed = fs.crash(seededRng(seed));
            throw new Error("crashed");
          }
        },
      }).catch(() => undefined);
      assert.ok(crashed !== undefined);
      const after = store(crashed);
      const src2 = await after.open(opts("dlq"), true);
      const dst2 = await after.open(opts("work"), true);
      const inSource = await drainIds(src2);
      const inDestination = await drainIds(dst2);
      const all = new Set([...inSource, ...inDestination]);
      assert.deepEqual(
        range(1, 3000).filter((id) => !all.has(id)),
        [],
        `seed ${seed}: lost messages`,
      );
      assert.ok(
        inDestination.length >= crashAfter * 500,
        `seed ${seed}: what was moved is in the destination`,
      );
    }
  });
});
