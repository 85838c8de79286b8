// The order service's writes: an order row and its event in one transaction through the outbox, so an
// order is never saved without its OrderCreated being published, nor published without being saved.
// Invariant: an order leaves `pending` once, to `completed` or `cancelled`, and that change carries its
// event (OrderCompleted / OrderCancelled) in the same transaction.

import { randomUUID } from "node:crypto";
import type { Db } from "./db.ts";
import type { Tables } from "./schema.ts";
import type { Outbox } from "./stores.ts";

export interface OrderInput {
  readonly userId: string;
  readonly sku: string;
  readonly qty: number;
  readonly amount: number;
  readonly callbackUrl?: string;
}

export interface Order extends OrderInput {
  readonly id: string;
  readonly status: "pending" | "completed" | "cancelled";
  readonly reason?: string;
}

/** The OrderCreated event's data (what the saga and the email service get). */
export interface OrderCreated extends OrderInput {
  readonly orderId: string;
}

/** Checks a request body; the error names the field to fix. */
export function parseOrderInput(body: unknown): OrderInput {
  if (typeof body !== "object" || body === null) throw new TypeError("the body must be a JSON object");
  const b = body as Record<string, unknown>;
  const str = (k: string) => {
    if (typeof b[k] !== "string" || b[k] === "") throw new TypeError(`"${k}" must be a non-empty string`);
    return b[k] as string;
  };
  const int = (k: string) => {
    if (!Number.isSafeInteger(b[k]) || (b[k] as number) <= 0)
      throw new TypeError(`"${k}" must be a positive integer`);
    return b[k] as number;
  };
  const input = { userId: str("userId"), sku: str("sku"), qty: int("qty"), amount: int("amount") };
  if (b.callbackUrl === undefined) return input;
  const cb = str("callbackUrl");
  if (!/^https?:\/\//u.test(cb)) throw new TypeError(`"callbackUrl" must be an http(s) URL`);
  return { ...input, callbackUrl: cb };
}

export class OrderService {
  constructor(
    private readonly db: Db,
    private readonly outbox: Outbox,
    private readonly t: Tables,
    private readonly topic: string,
  ) {}

  /** Saves the order and OrderCreated together; the relay publishes the event after the commit. */
  async place(input: OrderInput, id: string = `ord-${randomUUID()}`): Promise<Order> {
    const now = Date.now();
    await this.db.tx(async (tx) => {
      await tx.run(
        `INSERT INTO ${this.t.orders} (id, user_id, sku, qty, amount, status, callback_url, created_ms, updated_ms) ` +
          "VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $7)",
        [id, input.userId, input.sku, input.qty, input.amount, input.callbackUrl ?? null, now],
      );
      const data: OrderCreated = { orderId: id, ...input };
      await this.outbox.add(tx, { topic: this.topic, key: id, type: "OrderCreated", data });
    });
    return { id, status: "pending", ...input };
  }

  /** Moves a pending order to its outcome with its event; a repeat (redelivery, resumed saga) is a no-op. */
  async finish(id: string, status: "completed" | "cancelled", reason?: string): Promise<boolean> {
    return this.db.tx(async (tx) => {
      const changed = await tx.run(
        `UPDATE ${this.t.orders} SET status = $1, reason = $2, updated_ms = $3 WHERE id = $4 AND status = 'pending'`,
        [status, reason ?? null, Date.now(), id],
      );
      if (changed === 0) return false;
      const [order] = await tx.all<Record<string, unknown>>(`SELECT * FROM ${this.t.orders} WHERE id = $1`, [
        id,
      ]);
      const type = status === "completed" ? "OrderCompleted" : "OrderCancelled";
      await this.outbox.add(tx, { topic: this.topic, key: id, type, data: rowToOrder(order!) });
      return true;
    });
  }

  async get(id: string): Promise<Order | undefined> {
    const [row] = await this.db.all<Record<string, unknown>>(`SELECT * FROM ${this.t.orders} WHERE id = $1`, [
      id,
    ]);
    return row && rowToOrder(row);
  }

  /** Orders by status (the run's closing count). */
  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.db.all<{ status: string; n: number | string }>(
      `SELECT status, COUNT(*) AS n FROM ${this.t.orders} GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}

function rowToOrder(r: Record<string, unknown>): Order {
  return {
    id: String(r.id),
    userId: String(r.user_id),
    sku: String(r.sku),
    qty: Number(r.qty),
    amount: Number(r.amount),
    status: r.status as Order["status"],
    ...(r.reason == null ? {} : { reason: String(r.reason) }),
    ...(r.callback_url == null ? {} : { callbackUrl: String(r.callback_url) }),
  };
}
