// coalesceWrites against the RabbitMQ on 127.0.0.1:5672: a burst of publishes leaves the socket in a few
// writes, not one per message, and every publish is still confirmed. Publishes go to the default
// exchange with a routing key no queue has (dropped by the broker, confirmed all the same): nothing to
// clean up.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import amqp, { type ChannelModel } from "amqplib";
import { RABBITMQ_URL } from "../../../../../test/support/rabbitmq.ts";
import { coalesceWrites } from "./coalesce-writes.ts";

const BURST = 200;
const models: ChannelModel[] = [];
after(async () => {
  for (const m of models) await m.close().catch(() => {});
});

/** Socket write calls (each a write(2) or writev(2)) while `BURST` messages are published and confirmed. */
async function writesForBurst(coalesce: boolean): Promise<number> {
  const model = await amqp.connect(RABBITMQ_URL);
  models.push(model);
  if (coalesce) assert.equal(coalesceWrites(model), true);
  const ch = await model.createConfirmChannel();
  const socket = (model as unknown as { connection: { stream: Record<string, unknown> } }).connection.stream;
  let writes = 0;
  for (const name of ["_write", "_writev"]) {
    const original = socket[name] as (...args: unknown[]) => unknown;
    socket[name] = function counted(this: unknown, ...args: unknown[]) {
      writes++;
      return original.apply(this, args);
    };
  }
  const confirmed = Array.from(
    { length: BURST },
    (_, i) =>
      new Promise<void>((resolve, reject) =>
        ch.publish("", `spindle-sdk-nowhere-${process.pid}`, Buffer.from(`m${i}`), {}, (err) =>
          err ? reject(err) : resolve(),
        ),
      ),
  );
  await Promise.all(confirmed);
  return writes;
}

describe("coalesceWrites", () => {
  it("sends a burst of publishes in a few socket writes, all confirmed", async () => {
    const plain = await writesForBurst(false);
    const coalesced = await writesForBurst(true);
    assert.ok(plain >= BURST, `amqplib alone: one write per publish (${plain})`);
    assert.ok(coalesced <= BURST / 10, `coalesced: ${coalesced} writes for ${BURST} publishes`);
  });
});
