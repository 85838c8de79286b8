// SIGTERM to a real `spindle start` with AMQP clients connected: each hears connection.close 320
// CONNECTION_FORCED with RabbitMQ's text before the socket goes (it used to be dropped without a word), and
// the process exits 0. Invariant checked: a client can tell a broker shutdown from a network fault.

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { startSpindle } from "../support/spindle-process.ts";

test("SIGTERM closes AMQP connections with 320 CONNECTION_FORCED, then exits 0", async () => {
  const spindle = await startSpindle();
  const conns = await Promise.all([amqplib.connect(spindle.url), amqplib.connect(spindle.url)]);
  await conns[0]?.createChannel();
  const errors = conns.map(
    (c) =>
      new Promise<string>((resolve) => {
        // amqplib treats 320 as not fatal: no 'error' event, the reason comes with 'close'
        c.on("error", () => undefined);
        c.once("close", (e?: { code?: number; message: string }) =>
          resolve(e === undefined ? "closed without a reason" : `${e.code}: ${e.message}`),
        );
      }),
  );
  await spindle.stop();
  for (const e of await Promise.all(errors)) {
    assert.match(
      e,
      /^320: .*CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'/,
      "amqplib reports the broker's close",
    );
  }
  assert.equal(spindle.child.exitCode, 0);
});
