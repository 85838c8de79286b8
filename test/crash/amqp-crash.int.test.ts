// SIGKILL during confirmed publishing and acking: after a restart every confirmed persistent message that
// was not acked is there exactly once, and no acked message comes back (acks are durable once flushed).
// Runs the real `spindle start` process; nothing here assumes a port.

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { startSpindle } from "../support/spindle-process.ts";

test("confirmed messages survive SIGKILL; acked ones do not come back", async () => {
  const keep = await startSpindle();
  const dir = keep.dataDir;
  let conn = await amqplib.connect(keep.url);
  conn.on("error", () => undefined);
  const ch = await conn.createConfirmChannel();
  ch.on("error", () => undefined);
  await ch.assertQueue("crash-q", { durable: true });
  const confirmed = new Set<number>();
  let sent = 0;
  const publishing = (async () => {
    while (sent < 50_000) {
      const i = sent++;
      ch.sendToQueue("crash-q", Buffer.from(String(i)), { persistent: true }, (err) => {
        if (!err) confirmed.add(i);
      });
      if (i % 200 === 199) await ch.waitForConfirms().catch(() => undefined);
    }
  })();
  await new Promise((r) => setTimeout(r, 700));
  process.kill(keep.child.pid as number, "SIGKILL");
  await publishing.catch(() => undefined);
  await keep.exited;
  assert.ok(confirmed.size > 100, `only ${confirmed.size} confirmed before the kill`);

  const again = await startSpindle([], dir);
  conn = await amqplib.connect(again.url);
  conn.on("error", () => undefined);
  const c2 = await conn.createChannel();
  c2.on("error", () => undefined);
  const seen = new Map<number, number>();
  for (
    let m = await c2.get("crash-q", { noAck: true });
    m !== false;
    m = await c2.get("crash-q", { noAck: true })
  ) {
    const i = Number(m.content.toString());
    seen.set(i, (seen.get(i) ?? 0) + 1);
  }
  for (const i of confirmed) assert.equal(seen.get(i), 1, `confirmed message ${i} present once`);
  for (const [i, n] of seen) assert.equal(n, 1, `message ${i} seen ${n} times`);
  // the noAck gets above settled everything: after another kill nothing may come back
  await new Promise((r) => setTimeout(r, 200));
  process.kill(again.child.pid as number, "SIGKILL");
  await again.exited;
  const third = await startSpindle([], dir);
  const conn3 = await amqplib.connect(third.url);
  const c3 = await conn3.createChannel();
  assert.equal((await c3.checkQueue("crash-q")).messageCount, 0);
  await conn3.close();
  await third.stop();
});
