// publishConfirmed against amqplib's own ConfirmChannel.publish: the same frames (encoded by amqplib's
// codec) and the confirm callback queued once, for the options the SDK sends and for the odd ones.

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { test } from "node:test";
import type { ConfirmChannel, Options } from "amqplib";
import { publishConfirmed } from "./confirm-publish.ts";

const require = createRequire(import.meta.url);
// amqplib's exports map hides lib/: reach its codec and channel class by path
const lib = join(dirname(require.resolve("amqplib")), "lib");
const defs = require(join(lib, "defs.js"));
const { ConfirmChannel: AmqplibConfirmChannel } = require(join(lib, "channel_model.js"));

/** A ConfirmChannel whose sends are recorded as the bytes amqplib would write. */
function recordingChannel() {
  const frames: Buffer[] = [];
  const callbacks: unknown[] = [];
  const ch = Object.create(AmqplibConfirmChannel.prototype);
  ch.sendMessage = (fields: object, props: object, content: Buffer) => {
    frames.push(defs.encodeMethod(defs.BasicPublish, 1, fields));
    frames.push(defs.encodeProperties(defs.BasicProperties, 1, content.length, props));
    return true;
  };
  ch.pushConfirmCallback = (cb: unknown) => callbacks.push(cb);
  return { ch: ch as ConfirmChannel, frames, callbacks };
}

const cases: Options.Publish[] = [
  {
    persistent: true,
    messageId: "m-1",
    contentType: "application/json",
    headers: { "cloudEvents:specversion": "1.0", "cloudEvents:id": "m-1", "x-delay": 250 },
  },
  { persistent: true, expiration: "1500", headers: { a: "b" } },
  { deliveryMode: 1, priority: 3, correlationId: "c", replyTo: "r", timestamp: 17, type: "t", appId: "x" },
  { mandatory: true, expiration: 20 as unknown as string },
  {},
];

for (const [i, o] of cases.entries()) {
  test(`publishConfirmed writes what ConfirmChannel.publish writes (${i})`, () => {
    const body = Buffer.from("hello");
    const theirs = recordingChannel();
    const cb = () => {};
    AmqplibConfirmChannel.prototype.publish.call(theirs.ch, "ex", "rk", body, o, cb);
    const ours = recordingChannel();
    assert.equal(publishConfirmed(ours.ch, "ex", "rk", body, o, cb), true);
    assert.deepEqual(ours.frames, theirs.frames);
    assert.deepEqual(ours.callbacks, [cb]);
  });
}

test("CC/BCC go through amqplib's own publish", () => {
  const { ch, frames, callbacks } = recordingChannel();
  let used = false;
  ch.publish = ((...args: unknown[]) => {
    used = true;
    return AmqplibConfirmChannel.prototype.publish.apply(ch, args);
  }) as ConfirmChannel["publish"];
  publishConfirmed(ch, "ex", "rk", Buffer.from("x"), { CC: "other" }, () => {});
  assert.equal(used, true);
  assert.equal(frames.length, 2);
  assert.equal(callbacks.length, 1);
});
