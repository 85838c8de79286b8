// The email service: one mail per order event (received, confirmed, cancelled), rate-limited like a mail
// provider's API, through an idempotent inbox. Invariant: a mail row and the inbox mark commit together,
// so an event delivered twice sends one mail.

import type { Bus, InboxStore, Subscription } from "@spindle/sdk";
import type { Db } from "../db.ts";
import type { OrderCreated } from "../orders.ts";
import type { Tables } from "../schema.ts";

const SUBJECTS: Record<string, (orderId: string) => string> = {
  OrderCreated: (id) => `We received your order ${id}`,
  OrderCompleted: (id) => `Your order ${id} is confirmed`,
  OrderCancelled: (id) => `Your order ${id} was cancelled`,
};

export function startEmail(
  bus: Bus,
  db: Db,
  inbox: InboxStore,
  t: Tables,
  topic: string,
): Promise<Subscription> {
  return bus.subscribe(
    topic,
    {
      group: "email",
      concurrency: 4,
      // the mail provider takes 20 a second with bursts of 5
      rateLimit: { kind: "token-bucket", ratePerSec: 20, burst: 5 },
      idempotent: inbox,
    },
    async (msg, ctx) => {
      const subject = SUBJECTS[msg.type];
      if (subject === undefined) return;
      const d = msg.data as OrderCreated & { id?: string };
      const orderId = d.orderId ?? d.id ?? "?";
      await db
        .txOf(ctx.tx)
        .run(`INSERT INTO ${t.emails} (message_id, recipient, subject, sent_ms) VALUES ($1, $2, $3, $4)`, [
          msg.id,
          `${d.userId}@example.com`,
          subject(orderId),
          Date.now(),
        ]);
    },
  );
}

export async function emailsSent(db: Db, t: Tables): Promise<number> {
  const [r] = await db.all<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${t.emails}`);
  return Number(r?.n ?? 0);
}
