// Differential scenarios for priorities, single active consumer and transactions.
// Invariant: each scenario cleans up what it names, or uses exclusive entities.

import type amqplib from "amqplib";
import { type Ctx, channelError, consumeN, type Scenario, sleep } from "./harness.ts";

const bodies = (ms: amqplib.Message[]) => ms.map((m) => m.content.toString());

export const EXTRA: Scenario[] = [
  {
    name: "x-max-priority orders ready messages by priority",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createConfirmChannel();
      const { queue } = await ch.assertQueue("", { exclusive: true, arguments: { "x-max-priority": 5 } });
      const sends: [string, number | undefined][] = [
        ["p0", undefined],
        ["p3", 3],
        ["p9", 9],
        ["p1", 1],
        ["p3b", 3],
      ];
      for (const [b, priority] of sends)
        ch.sendToQueue(queue, Buffer.from(b), priority === undefined ? {} : { priority });
      await ch.waitForConfirms();
      ctx.log("order", bodies(await consumeN(ch, queue, 5, { noAck: true })));
    },
  },
  {
    name: "x-max-priority: a requeued message goes back to its own priority",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createConfirmChannel();
      const { queue } = await ch.assertQueue("", { exclusive: true, arguments: { "x-max-priority": 5 } });
      for (const b of ["low-a", "low-b"]) ch.sendToQueue(queue, Buffer.from(b), { priority: 1 });
      await ch.waitForConfirms();
      const got = (await ch.get(queue, { noAck: false })) as amqplib.GetMessage;
      ctx.log("got", got.content.toString());
      ch.sendToQueue(queue, Buffer.from("high"), { priority: 5 });
      await ch.waitForConfirms();
      ch.nack(got, false, true);
      await sleep(100);
      const after = await consumeN(ch, queue, 3, { noAck: true });
      ctx.log(
        "after requeue",
        after.map((m) => `${m.content}${m.fields.redelivered ? " (redelivered)" : ""}`),
      );
    },
  },
  {
    name: "single active consumer gets everything until it cancels",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createConfirmChannel();
      const { queue } = await ch.assertQueue("", {
        exclusive: true,
        arguments: { "x-single-active-consumer": true },
      });
      const got: string[] = [];
      await ch.consume(queue, (m) => m && got.push(`a:${m.content}`), { noAck: true, consumerTag: "a" });
      await ch.consume(queue, (m) => m && got.push(`b:${m.content}`), { noAck: true, consumerTag: "b" });
      for (const b of ["1", "2", "3"]) ch.sendToQueue(queue, Buffer.from(b));
      await ch.waitForConfirms();
      await sleep(200);
      await ch.cancel("a");
      for (const b of ["4", "5"]) ch.sendToQueue(queue, Buffer.from(b));
      await ch.waitForConfirms();
      await sleep(200);
      ctx.log("deliveries", got);
    },
  },
  {
    name: "tx: publishes and acks take effect on commit only",
    async run(ctx: Ctx) {
      const c = await ctx.connect();
      const ch = await c.createChannel();
      const { queue } = await ch.assertQueue("", { exclusive: true });
      ch.sendToQueue(queue, Buffer.from("pre"));
      await sleep(100);
      await sendTx(ch, "select");
      ch.sendToQueue(queue, Buffer.from("rolled-back"));
      await sendTx(ch, "rollback");
      ctx.log("after rollback", (await ch.checkQueue(queue)).messageCount);
      ch.sendToQueue(queue, Buffer.from("committed"));
      ctx.log("before commit", (await ch.checkQueue(queue)).messageCount);
      await sendTx(ch, "commit");
      ctx.log("after commit", (await ch.checkQueue(queue)).messageCount);
      const m = await ch.get(queue);
      if (m) ch.ack(m);
      await sendTx(ch, "rollback");
      ctx.log("ack rolled back", (await ch.checkQueue(queue)).messageCount);
      const ch2 = await c.createConfirmChannel();
      await channelError(ctx, ch2, () => sendTx(ch2, "select"));
    },
  },
];

/** amqplib has no tx API; send tx.* through its generic RPC. */
async function sendTx(ch: amqplib.Channel, what: "select" | "commit" | "rollback"): Promise<void> {
  const defs = {
    select: [90 * 65536 + 10, 90 * 65536 + 11],
    commit: [90 * 65536 + 20, 90 * 65536 + 21],
    rollback: [90 * 65536 + 30, 90 * 65536 + 31],
  } as const;
  const [req, ok] = defs[what];
  await new Promise<void>((resolve, reject) =>
    (ch as unknown as { _rpc(id: number, f: object, expect: number, cb: (e: unknown) => void): void })._rpc(
      req,
      {},
      ok,
      (e) => (e ? reject(e) : resolve()),
    ),
  );
}
