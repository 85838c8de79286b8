// SIGKILL in the middle of a move (DLQ redrive) of 200,000 messages over HTTP, then a restart on the same
// data dir: every message is in the source or the destination (twice is allowed, lost is not), counted by
// the ids in their bodies. The move's NDJSON progress tells when it is under way.

import assert from "node:assert/strict";
import { after, it } from "node:test";
import amqplib from "amqplib";
import { GUEST_AUTH, httpApi } from "../support/http-api.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

const N = Number(process.env.MOVE_CRASH_MESSAGES ?? 200_000);

let proc: SpindleProcess | undefined;
after(() => proc?.stop(true));

async function publishAll(url: string, queue: string): Promise<void> {
  const conn = await amqplib.connect(url);
  const ch = await conn.createConfirmChannel();
  for (let i = 0; i < N; i++) {
    ch.sendToQueue(queue, Buffer.from(String(i)), { persistent: true });
    if (i % 10_000 === 9_999) await ch.waitForConfirms();
  }
  await ch.waitForConfirms();
  await conn.close();
}

/** The ids in every message of `queue` (consumed without acks, prefetch 5000). */
async function idsIn(url: string, queue: string): Promise<number[]> {
  const conn = await amqplib.connect(url);
  const ch = await conn.createChannel();
  const { messageCount } = await ch.checkQueue(queue);
  const ids: number[] = [];
  if (messageCount > 0) {
    await ch.prefetch(5000);
    await new Promise<void>((resolve) => {
      void ch.consume(
        queue,
        (m) => {
          if (m === null) return;
          ids.push(Number(m.content.toString()));
          if (ids.length === messageCount) resolve();
        },
        { noAck: true },
      );
    });
  }
  await conn.close();
  return ids;
}

/** Starts the move with NDJSON progress; resolves with the last line seen once `moved` passes `atLeast`. */
async function moveUntil(http: string, atLeast: number): Promise<{ moved: number; total: number }> {
  const res = await fetch(`http://${http}/api/queues/%2F/dlq/move`, {
    method: "POST",
    headers: {
      authorization: GUEST_AUTH,
      "content-type": "application/json",
      accept: "application/x-ndjson",
    },
    body: JSON.stringify({ destination: "work" }),
  });
  assert.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const text = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    assert.ok(!done, "the move ended before the kill");
    buffered += text.decode(value, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const p = JSON.parse(line) as { moved: number; total: number; done?: boolean };
      assert.ok(p.done !== true, `the move finished before the kill (${p.moved} moved)`);
      if (p.moved >= atLeast) {
        await reader.cancel(); // the client goes away; the move goes on in the broker
        return p;
      }
    }
  }
}

it(`a SIGKILL in the middle of a move of ${N} messages loses none`, { timeout: 600_000 }, async () => {
  proc = await startSpindle();
  const api = httpApi(proc.http);
  for (const q of ["dlq", "work"]) {
    assert.equal((await api("PUT", `/api/queues/%2F/${q}`, { durable: true })).status, 201);
  }
  await publishAll(proc.url, "dlq");
  const at = await moveUntil(proc.http, N / 10);
  await proc.stop(true); // SIGKILL while the move goes on
  assert.ok(at.moved < N, `killed mid-move: ${at.moved} of ${at.total} moved`);

  proc = await startSpindle([], proc.dataDir);
  const inSource = await idsIn(proc.url, "dlq");
  const inDestination = await idsIn(proc.url, "work");
  const seen = new Uint8Array(N);
  for (const id of [...inSource, ...inDestination]) seen[id] = 1;
  const lost = seen.reduce((n, s) => n + (s === 0 ? 1 : 0), 0);
  const duplicates = inSource.length + inDestination.length - (N - lost);
  console.log(
    `# killed at ${at.moved} moved; after the restart ${inSource.length} in the source, ${inDestination.length} in the destination, ${duplicates} twice, ${lost} lost`,
  );
  assert.equal(lost, 0, "messages lost");
  assert.ok(inDestination.length >= at.moved, "every move reported done is in the destination");
});
