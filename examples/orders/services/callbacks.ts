// The callback notifier: when an order completes or is cancelled, POSTs the order to the callback URL
// its client registered (the seeds' async HTTP, push side). Invariant: a callback is retried with backoff
// until the client answers 2xx, and recorded through the inbox so a redelivered event calls it once more
// at most (an HTTP call cannot join a transaction: the client must accept a repeat).

import { type Bus, type InboxStore, retry, type Subscription } from "@spindle/sdk";
import type { Db } from "../db.ts";
import type { Order } from "../orders.ts";
import type { Tables } from "../schema.ts";

export function startCallbacks(
  bus: Bus,
  db: Db,
  inbox: InboxStore,
  t: Tables,
  topic: string,
): Promise<Subscription> {
  return bus.subscribe(
    topic,
    {
      group: "callbacks",
      concurrency: 4,
      retry: retry.exponential({ attempts: 5, initialMs: 100, maxMs: 2_000, jitter: "full" }),
      idempotent: inbox,
      timeoutMs: 5_000,
    },
    async (msg, ctx) => {
      if (msg.type !== "OrderCompleted" && msg.type !== "OrderCancelled") return;
      const order = msg.data as Order;
      if (order.callbackUrl === undefined) return;
      const res = await fetch(order.callbackUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(order),
        signal: ctx.signal,
      });
      if (!res.ok) throw new Error(`callback ${order.callbackUrl} answered ${res.status}`);
      await db
        .txOf(ctx.tx)
        .run(`INSERT INTO ${t.callbacks} (message_id, url, status) VALUES ($1, $2, $3)`, [
          msg.id,
          order.callbackUrl,
          res.status,
        ]);
    },
  );
}
