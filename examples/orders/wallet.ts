// The seeds' event-sourced user: USER_CREATED (name, email), BALANCE_ADDED, BALANCE_DEDUCTED, as a
// Decider, and the two read models CQRS builds from its events: user_summary (name, balance) and
// user_transactions (CREDIT/DEBIT rows). Invariant: a deduction never takes the balance below zero —
// the payment service's decline is this decider refusing the command.

import type { Decider, Projection, StoredEvent } from "@spindle/sdk";
import type { Db } from "./db.ts";
import type { Tables } from "./schema.ts";

export type UserCommand =
  | { type: "Create"; name: string; email: string }
  | { type: "AddBalance"; amount: number }
  | { type: "Deduct"; amount: number; orderId: string };

export type UserEvent =
  | { type: "USER_CREATED"; data: { name: string; email: string } }
  | { type: "BALANCE_ADDED"; data: { amount: number } }
  | { type: "BALANCE_DEDUCTED"; data: { amount: number; orderId: string } };

export interface UserState {
  readonly exists: boolean;
  readonly balance: number;
}

/** The decider's refusal of a deduction the balance does not cover: a business answer, not a fault. */
export class InsufficientFunds extends Error {
  override readonly name = "InsufficientFunds";
}

export const userDecider: Decider<UserCommand, UserState, UserEvent> = {
  initialState: () => ({ exists: false, balance: 0 }),
  decide(c, s) {
    if (c.type === "Create") {
      if (s.exists) return [];
      return { type: "USER_CREATED", data: { name: c.name, email: c.email } };
    }
    if (!s.exists) throw new Error(`user does not exist (create it first)`);
    if (c.type === "AddBalance") return { type: "BALANCE_ADDED", data: { amount: c.amount } };
    if (c.amount > s.balance) {
      throw new InsufficientFunds(`insufficient funds: balance ${s.balance}, charge ${c.amount}`);
    }
    return { type: "BALANCE_DEDUCTED", data: { amount: c.amount, orderId: c.orderId } };
  },
  evolve(s, e) {
    if (e.type === "USER_CREATED") return { exists: true, balance: 0 };
    if (e.type === "BALANCE_ADDED") return { ...s, balance: s.balance + e.data.amount };
    return { ...s, balance: s.balance - e.data.amount };
  },
};

/** The user id of stream `user-<id>`. */
export const streamOf = (userId: string) => `user-${userId}`;
const userOf = (e: StoredEvent) => e.streamId.slice("user-".length);

/** user_summary: one row per user with name and balance (the seeds' "user summary" query). */
export function userSummaryProjection(db: Db, t: Tables): Projection<unknown> {
  return {
    name: `${t.userSummary}`,
    eventTypes: ["USER_CREATED", "BALANCE_ADDED", "BALANCE_DEDUCTED"],
    async apply(event, raw) {
      const tx = db.txOf(raw);
      const user = userOf(event);
      if (event.type === "USER_CREATED") {
        const d = event.data as { name: string; email: string };
        await tx.run(
          `INSERT INTO ${t.userSummary} (user_id, name, email, balance, version) VALUES ($1, $2, $3, 0, $4)`,
          [user, d.name, d.email, event.version],
        );
        return;
      }
      const amount = (event.data as { amount: number }).amount;
      const delta = event.type === "BALANCE_ADDED" ? amount : -amount;
      await tx.run(`UPDATE ${t.userSummary} SET balance = balance + $1, version = $2 WHERE user_id = $3`, [
        delta,
        event.version,
        user,
      ]);
    },
    async reset(raw) {
      await db.txOf(raw).run(`DELETE FROM ${t.userSummary}`);
    },
  };
}

/** user_transactions: a CREDIT or DEBIT row per balance change (the seeds' "user transactions" query). */
export function userTransactionsProjection(db: Db, t: Tables): Projection<unknown> {
  return {
    name: `${t.userTransactions}`,
    eventTypes: ["BALANCE_ADDED", "BALANCE_DEDUCTED"],
    async apply(event, raw) {
      const d = event.data as { amount: number; orderId?: string };
      await db
        .txOf(raw)
        .run(
          `INSERT INTO ${t.userTransactions} (event_id, user_id, kind, amount, order_id, at_ms) ` +
            "VALUES ($1, $2, $3, $4, $5, $6)",
          [
            event.id,
            userOf(event),
            event.type === "BALANCE_ADDED" ? "CREDIT" : "DEBIT",
            d.amount,
            d.orderId ?? null,
            Math.round(event.createdMs), // PostgreSQL gives fractional ms
          ],
        );
    },
    async reset(raw) {
      await db.txOf(raw).run(`DELETE FROM ${t.userTransactions}`);
    },
  };
}

export interface UserSummary {
  userId: string;
  name: string;
  email: string;
  balance: number;
  version: number;
}
export interface UserTransaction {
  eventId: string;
  kind: "CREDIT" | "DEBIT";
  amount: number;
  orderId: string | null;
  atMs: number;
}

/** The "user summary" query, answered from the read model. */
export async function userSummary(db: Db, t: Tables, userId: string): Promise<UserSummary | undefined> {
  const rows = await db.all<{ name: string; email: string; balance: number; version: number }>(
    `SELECT name, email, balance, version FROM ${t.userSummary} WHERE user_id = $1`,
    [userId],
  );
  const r = rows[0];
  return (
    r && { userId, name: r.name, email: r.email, balance: Number(r.balance), version: Number(r.version) }
  );
}

/** The "user transactions" query, oldest first. */
export async function userTransactions(db: Db, t: Tables, userId: string): Promise<UserTransaction[]> {
  const rows = await db.all<{
    event_id: string;
    kind: "CREDIT" | "DEBIT";
    amount: number;
    order_id: string | null;
    at_ms: number | string;
  }>(
    `SELECT event_id, kind, amount, order_id, at_ms FROM ${t.userTransactions} WHERE user_id = $1 ` +
      "ORDER BY at_ms, event_id",
    [userId],
  );
  return rows.map((r) => ({
    eventId: r.event_id,
    kind: r.kind,
    amount: Number(r.amount),
    orderId: r.order_id,
    atMs: Number(r.at_ms),
  }));
}
