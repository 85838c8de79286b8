// The payment service: answers Charge commands by deducting the user's event-sourced balance. Invariant
// ("never charge the user twice"): the BALANCE_DEDUCTED event and the recorded reply for the order's
// idempotency key commit in one transaction, so a command redelivered after a crash — before the commit
// (rolled back, runs again) or after it (the reply is found and sent again) — charges once.

import { type Bus, ConflictError, commandHandler, type EventStore, type Subscription } from "@spindle/sdk";
import type { Db } from "../db.ts";
import type { Tables } from "../schema.ts";
import { InsufficientFunds, streamOf, userDecider } from "../wallet.ts";

export interface Charge {
  orderId: string;
  userId: string;
  amount: number;
}
export type ChargeReply = { paymentId: string } | { declined: string };

export interface PaymentOptions {
  /** Fault injection for the kill test: stop forever at the Nth charge, inside or after its transaction. */
  readonly holdAt?: { readonly nth: number; readonly where: "in-tx" | "after-commit" };
  readonly onCharged?: (c: Charge, reply: ChargeReply) => void;
}

export async function startPayment(
  bus: Bus,
  db: Db,
  events: EventStore<unknown>,
  t: Tables,
  topic: string,
  o: PaymentOptions = {},
): Promise<Subscription> {
  const handle = commandHandler(events, userDecider);
  let seen = 0;
  const hold = async (where: "in-tx" | "after-commit", nth: number, c: Charge) => {
    if (o.holdAt?.where !== where || nth !== o.holdAt.nth) return;
    console.error(`payment: holding ${c.orderId} ${where} pid=${process.pid}`);
    await new Promise(() => {}); // until this process is killed
  };
  return bus.subscribe(topic, { group: "payment", concurrency: 4 }, async (msg) => {
    if (msg.type !== "Charge") throw new Error(`payment: unknown command type "${msg.type}"`);
    const c = msg.data as Charge;
    const nth = ++seen;
    const reply = await onConflictAgain(() =>
      db.tx(async (tx): Promise<ChargeReply> => {
        const key = `charge:${c.orderId}`;
        const [done] = await tx.all<{ reply: string }>(
          `SELECT reply FROM ${t.payments} WHERE idempotency_key = $1`,
          [key],
        );
        if (done !== undefined) return JSON.parse(done.reply) as ChargeReply;
        let r: ChargeReply;
        try {
          const result = await handle(
            streamOf(c.userId),
            { type: "Deduct", amount: c.amount, orderId: c.orderId },
            { tx: tx.raw, metadata: { causationId: msg.id } },
          );
          r = { paymentId: result.events[0]!.id };
        } catch (e) {
          if (!(e instanceof InsufficientFunds)) throw e;
          r = { declined: e.message };
        }
        await tx.run(`INSERT INTO ${t.payments} (idempotency_key, reply) VALUES ($1, $2)`, [
          key,
          JSON.stringify(r),
        ]);
        await hold("in-tx", nth, c);
        return r;
      }),
    );
    await hold("after-commit", nth, c);
    o.onCharged?.(c, reply);
    return reply;
  });
}

/** Runs `fn` again (a new transaction) when another charge of the same user appended first. */
async function onConflictAgain<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof ConflictError) || i === 10) throw e;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * i));
    }
  }
}
