// amqplib against the AMQP gateway: a reply text built from a client's names can pass 255 bytes of UTF-8
// while under 255 characters. Invariant checked: the close goes out whole (text cut to 255 bytes on a
// character boundary), the client reads a proper error, and the connection keeps serving.

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { startTestBroker } from "./test-broker.ts";

test("a 404 whose text is over 255 bytes closes the channel cleanly and the connection goes on", async () => {
  const broker = await startTestBroker();
  const conn = await amqplib.connect(broker.url);
  let connectionError: unknown;
  conn.on("error", (e) => {
    connectionError = e;
  });
  const ch = await conn.createChannel();
  // 120 × "é" is 240 bytes: a valid queue name, but "NOT_FOUND - no queue '…' in vhost '/'" is ~270 bytes
  const name = "é".repeat(120);
  const closed = new Promise<{ code: number; message: string }>((resolve) => {
    ch.once("error", resolve);
    // before the fix the channel never closed: the connection died of a partial frame instead
    conn.once("error", (e: Error) => resolve({ code: 0, message: `connection error: ${e.message}` }));
  });
  ch.checkQueue(name).catch(() => undefined);
  const err = await closed;
  assert.equal(err.code, 404);
  assert.match(err.message, /NOT_FOUND - no queue 'é+/);
  // the connection is still framed: a new channel works
  const ch2 = await conn.createChannel();
  const { queue } = await ch2.assertQueue("", { exclusive: true });
  assert.match(queue, /^amq\.gen-/);
  assert.equal(connectionError, undefined, "no connection error (amqplib said 'Invalid frame' before)");
  await conn.close();
  await broker.close();
});
