// The inventory service: answers ReserveStock and ReleaseStock commands (request/reply; the saga sends
// them). Invariant: each order reserves at most once and releases at most once — the reservation row,
// keyed by order id, is checked and written in the same transaction as the stock change, so a
// redelivered or re-sent command changes nothing and gets the same answer.

import type { Bus, Subscription } from "@spindle/sdk";
import type { Db } from "../db.ts";
import type { Tables } from "../schema.ts";

export interface ReserveStock {
  orderId: string;
  sku: string;
  qty: number;
}
export type ReserveReply = { reservationId: string } | { rejected: string };

export async function startInventory(bus: Bus, db: Db, t: Tables, topic: string): Promise<Subscription> {
  return bus.subscribe(topic, { group: "inventory", concurrency: 4 }, async (msg) => {
    if (msg.type === "ReserveStock") return reserve(db, t, msg.data as ReserveStock);
    if (msg.type === "ReleaseStock") return release(db, t, (msg.data as { orderId: string }).orderId);
    throw new Error(`inventory: unknown command type "${msg.type}"`);
  });
}

function reserve(db: Db, t: Tables, c: ReserveStock): Promise<ReserveReply> {
  return db.tx(async (tx) => {
    const [had] = await tx.all(`SELECT 1 FROM ${t.reservations} WHERE order_id = $1`, [c.orderId]);
    if (had !== undefined) return { reservationId: c.orderId };
    const taken = await tx.run(
      `UPDATE ${t.stock} SET available = available - $1 WHERE sku = $2 AND available >= $1`,
      [c.qty, c.sku],
    );
    if (taken === 0) return { rejected: `out of stock: ${c.sku} × ${c.qty}` };
    await tx.run(`INSERT INTO ${t.reservations} (order_id, sku, qty) VALUES ($1, $2, $3)`, [
      c.orderId,
      c.sku,
      c.qty,
    ]);
    return { reservationId: c.orderId };
  });
}

function release(db: Db, t: Tables, orderId: string): Promise<{ released: boolean }> {
  return db.tx(async (tx) => {
    const rows = await tx.all<{ sku: string; qty: number }>(
      `SELECT sku, qty FROM ${t.reservations} WHERE order_id = $1 AND released = 0`,
      [orderId],
    );
    const r = rows[0];
    if (r === undefined) return { released: false };
    await tx.run(`UPDATE ${t.reservations} SET released = 1 WHERE order_id = $1`, [orderId]);
    await tx.run(`UPDATE ${t.stock} SET available = available + $1 WHERE sku = $2`, [r.qty, r.sku]);
    return { released: true };
  });
}

/** Units of `sku` on hand (the run's closing check: every release put its stock back). */
export async function available(db: Db, t: Tables, sku: string): Promise<number> {
  const [r] = await db.all<{ available: number }>(`SELECT available FROM ${t.stock} WHERE sku = $1`, [sku]);
  return Number(r?.available ?? 0);
}
