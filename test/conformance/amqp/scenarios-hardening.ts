// Differential scenarios for what amqplib hides or RabbitMQ adds quietly: the class and method named by a
// connection.close during the handshake, and x-delivery-count on redeliveries under x-delivery-limit.
// Invariant: each scenario cleans up what it names.

import type amqplib from "amqplib";
import { type Ctx, type Scenario, sleep } from "./harness.ts";
import { rawHandshake } from "./raw-handshake.ts";

export const HARDENING: Scenario[] = [
  {
    name: "connection.open of a missing vhost: 530 on connection.open (10.40)",
    async run(ctx: Ctx) {
      ctx.log("open", await rawHandshake(ctx.url, "guest", "guest", "no-such-vhost"));
      ctx.log("open /", await rawHandshake(ctx.url, "guest", "guest", "/"));
    },
  },
  {
    name: "x-delivery-limit: redeliveries carry x-delivery-count, and the limit drops the message",
    async run(ctx: Ctx) {
      const ch = await (await ctx.connect()).createConfirmChannel();
      const q = ctx.name("delivery-count");
      // RabbitMQ 3.10 honours x-delivery-limit on quorum queues only (Spindle on every queue)
      await ch.assertQueue(q, {
        durable: true,
        arguments: { "x-queue-type": "quorum", "x-delivery-limit": 2 },
      });
      ch.sendToQueue(q, Buffer.from("m"), { headers: { app: "kept" } });
      await ch.waitForConfirms();
      for (let i = 0; i < 4; i++) {
        const m = await ch.get(q, { noAck: false });
        if (m === false) {
          ctx.log(`get ${i}`, "empty");
          break;
        }
        const h = m.properties.headers as Record<string, unknown> | undefined;
        ctx.log(`get ${i}`, { redelivered: m.fields.redelivered, headers: h });
        ch.nack(m as amqplib.Message, false, true);
        await sleep(100);
      }
      await ch.deleteQueue(q);
    },
  },
];
