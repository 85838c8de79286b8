// AckBatcher against the RabbitMQ on 127.0.0.1:5672: acks made in one turn leave as few frames, and a
// `multiple` never covers a delivery that was not acked (it comes back after the channel closes). The
// queue carries this run's pid and is deleted after.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from "amqplib";
import { RABBITMQ_URL } from "../../../../../test/support/rabbitmq.ts";
import { waitFor } from "../../testing/wait.ts";
import { AckBatcher } from "./ack-batcher.ts";

const N = 20;
const models: ChannelModel[] = [];
const queues: string[] = [];
after(async () => {
  const model = await amqp.connect(RABBITMQ_URL);
  const ch = await model.createChannel();
  for (const q of queues) await ch.deleteQueue(q);
  await model.close();
  for (const m of models) await m.close().catch(() => {});
});

/** A fresh queue holding messages 0..N-1, and a consumer channel that holds them all unacked. */
async function delivered(): Promise<{ queue: string; ch: Channel; msgs: ConsumeMessage[]; acks: string[] }> {
  const queue = `spindle-sdk-ack-batcher-${process.pid}-${queues.length}`;
  queues.push(queue);
  const model = await amqp.connect(RABBITMQ_URL);
  models.push(model);
  const ch = await model.createChannel();
  await ch.assertQueue(queue, { durable: false });
  for (let i = 0; i < N; i++) ch.sendToQueue(queue, Buffer.from(String(i)));
  // the ack frames the channel sends, as amqplib encodes them (the one call every ack goes through)
  const acks: string[] = [];
  const raw = ch as unknown as { sendImmediately(method: number, fields: Record<string, unknown>): void };
  const send = raw.sendImmediately.bind(ch);
  raw.sendImmediately = (method, fields) => {
    if (fields.deliveryTag !== undefined && fields.requeue === undefined)
      acks.push(`${fields.deliveryTag}${fields.multiple ? "+" : ""}`);
    send(method, fields);
  };
  const msgs: ConsumeMessage[] = [];
  await ch.prefetch(N);
  await ch.consume(queue, (m) => m && msgs.push(m));
  await waitFor(`${N} deliveries`, () => msgs.length === N);
  return { queue, ch, msgs, acks };
}

/** Messages of `queue` left after the channel is closed (unacked ones return to it). */
async function left(queue: string, ch: Channel): Promise<number> {
  await ch.close();
  const model = await amqp.connect(RABBITMQ_URL);
  models.push(model);
  return (await (await model.createChannel()).checkQueue(queue)).messageCount;
}

describe("AckBatcher", () => {
  it("acks of one turn leave as one multiple ack", async () => {
    const { queue, ch, msgs, acks } = await delivered();
    const b = new AckBatcher(ch);
    for (const m of msgs) b.delivered(m);
    for (const m of msgs) b.ack(m);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(acks, [`${msgs[N - 1]?.fields.deliveryTag}+`]);
    assert.equal(await left(queue, ch), 0);
  });

  it("never covers a delivery still running: it stays unacked while later ones are acked", async () => {
    const { queue, ch, msgs, acks } = await delivered();
    const b = new AckBatcher(ch);
    for (const m of msgs) b.delivered(m);
    const [first, second, ...rest] = msgs as [ConsumeMessage, ConsumeMessage, ...ConsumeMessage[]];
    b.ack(first);
    b.release(second); // requeued at once
    for (const m of rest.slice(1)) b.ack(m); // rest[0] is still running
    b.flush();
    assert.equal(acks[0], String(first.fields.deliveryTag));
    assert.equal(acks.length, 1 + rest.length - 1);
    assert.ok(
      acks.every((a) => !a.endsWith("+")),
      `no multiple ack: ${acks.join(" ")}`,
    );
    // the running one and the released one go back; every acked one is gone
    assert.equal(await left(queue, ch), 2);
  });

  it("each turn's run goes as one multiple", async () => {
    const { queue, ch, msgs, acks } = await delivered();
    const b = new AckBatcher(ch);
    for (const m of msgs) b.delivered(m);
    for (const m of msgs.slice(0, N / 2)) b.ack(m);
    await new Promise((r) => setImmediate(r));
    for (const m of msgs.slice(N / 2)) b.ack(m);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(acks, [
      `${msgs[N / 2 - 1]?.fields.deliveryTag}+`,
      `${msgs[N - 1]?.fields.deliveryTag}+`,
    ]);
    assert.equal(await left(queue, ch), 0);
  });
});
