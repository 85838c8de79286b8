// Peek on durable queues in a real temp dir: pages, filters, ready vs unacked, and that a peek leaves
// delivery as it was (order, `redelivered`, also after a restart).
// Invariant: each test fails if a peek consumes, reorders or flags a message, or misses one.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { drainIds, idMessage, idOf, queuesOnDisk } from "../testing/queues-on-disk.ts";
import type { QueuedMessage } from "./message.ts";
import { type PeekPage, peekMessages } from "./queue-peek.ts";

const ids = (page: PeekPage) => page.messages.map(idOf);

describe("peekMessages", () => {
  it("pages through a queue in order without taking anything", async () => {
    const disk = queuesOnDisk("peek");
    const q = await disk.open("q");
    for (let i = 1; i <= 25; i++) q.enqueue(idMessage(i));
    await q.enqueue(idMessage(26));
    const seen: number[] = [];
    let from: number | undefined;
    let pages = 0;
    for (;;) {
      const page = await peekMessages(q, from === undefined ? { limit: 10 } : { from, limit: 10 });
      pages++;
      seen.push(...ids(page));
      assert.ok(page.messages.every((m) => m.state === "ready" && !m.redelivered));
      if (page.next === null) break;
      from = page.next;
    }
    assert.equal(pages, 3);
    assert.deepEqual(
      seen,
      Array.from({ length: 26 }, (_, i) => i + 1),
    );
    assert.equal(q.messageCount, 26, "nothing was taken");
    const first = await q.get(false);
    assert.equal(first === null ? null : [idOf(first), first.redelivered].join(), "1,false");
    await q.close();
  });

  it("tells unacked from ready, and says which ones will come back redelivered", async () => {
    const disk = queuesOnDisk("peek-states");
    const q = await disk.open("q");
    for (let i = 1; i <= 4; i++) await q.enqueue(idMessage(i));
    const one = (await q.get(false)) as QueuedMessage;
    const two = (await q.get(false)) as QueuedMessage;
    q.requeue(two);
    const page = await peekMessages(q, { limit: 10 });
    assert.deepEqual(
      page.messages.map((m) => [idOf(m), m.state, m.redelivered]),
      [
        [1, "unacked", true],
        [2, "ready", true],
        [3, "ready", false],
        [4, "ready", false],
      ],
    );
    q.ack(one);
    assert.deepEqual(ids(await peekMessages(q, { limit: 10 })), [2, 3, 4], "an acked message is gone");
    await q.close();
  });

  it("filters with the given match and answers a position to go on from when the scan budget runs out", async () => {
    const disk = queuesOnDisk("peek-filter");
    const q = await disk.open("q");
    // 4 KB each: the log gets batches of about 1 MiB (the appender's early flush), more than one read
    const body = (i: number) => `${i % 100 === 0 ? "needle" : "hay"} ${i}`.padEnd(4000, ".");
    for (let i = 1; i <= 300; i++) q.enqueue(idMessage(i, { body: body(i) }));
    await q.enqueue(idMessage(301));
    const match = (m: { body: Buffer }) => m.body.includes("needle");
    const found: number[] = [];
    let page = await peekMessages(q, { limit: 10, match, scanBytesMax: 1 });
    let pages = 1;
    for (;;) {
      found.push(...ids(page));
      if (page.next === null) break;
      page = await peekMessages(q, { from: page.next, limit: 10, match, scanBytesMax: 1 });
      pages++;
    }
    assert.deepEqual(found, [100, 200, 300]);
    assert.ok(pages >= 2, "one read per page: the budget made the peek stop early and say where");
    await q.close();
  });

  it("after a restart, reads what is only in the log and keeps the redelivered marks of what was handed out", async () => {
    const disk = queuesOnDisk("peek-restart");
    let q = await disk.open("q");
    for (let i = 1; i <= 5; i++) await q.enqueue(idMessage(i));
    await q.get(false); // handed out, never acked: comes back redelivered after the restart
    await q.close();
    disk.restart();
    q = await disk.open("q", {}, true);
    const page = await peekMessages(q, { from: 0, limit: 100 });
    assert.deepEqual(
      page.messages.map((m) => [idOf(m), m.state, m.redelivered]),
      [
        [1, "ready", true],
        [2, "ready", false],
        [3, "ready", false],
        [4, "ready", false],
        [5, "ready", false],
      ],
    );
    assert.equal(page.next, null);
    assert.deepEqual(await drainIds(q), [1, 2, 3, 4, 5], "the peek left every message in place");
    await q.close();
  });
});
