// The place-order saga, orchestrated: reserve stock, charge payment, confirm the order; when a step
// fails, the completed steps are compensated in reverse (the stock is released) and the order is
// cancelled. Invariant: every command carries the order id as its idempotency key, so a re-sent command
// (after a crash, a timeout) changes nothing the first one did.

import { defineSaga } from "@spindle/sdk";
import type { OrderService } from "./orders.ts";
import type { ReserveReply } from "./services/inventory.ts";
import type { ChargeReply } from "./services/payment.ts";

export interface PlaceOrder {
  orderId: string;
  userId: string;
  sku: string;
  qty: number;
  amount: number;
  reservationId?: string;
  paymentId?: string;
}

export function placeOrderSaga(orders: OrderService, topics: { inventory: string; payment: string }) {
  return defineSaga<PlaceOrder>({
    name: "place-order",
    timeoutMs: 60_000,
    steps: [
      {
        name: "reserve-stock",
        command: (d) => ({
          topic: topics.inventory,
          type: "ReserveStock",
          data: { orderId: d.orderId, sku: d.sku, qty: d.qty },
        }),
        onReply: (d, reply) => {
          const r = reply as ReserveReply;
          if ("rejected" in r) throw new Error(r.rejected);
          return { ...d, reservationId: r.reservationId };
        },
        compensate: (d) => ({ topic: topics.inventory, type: "ReleaseStock", data: { orderId: d.orderId } }),
        timeoutMs: 20_000,
      },
      {
        name: "charge-payment",
        command: (d) => ({
          topic: topics.payment,
          type: "Charge",
          data: { orderId: d.orderId, userId: d.userId, amount: d.amount },
        }),
        onReply: (d, reply) => {
          const r = reply as ChargeReply;
          if ("declined" in r) throw new Error(`payment declined: ${r.declined}`);
          return { ...d, paymentId: r.paymentId };
        },
        // no timeout: a charge that may have happened is never given up on (a restarted payment service
        // answers it); compensating it blindly could cancel an order whose user was charged
      },
      {
        name: "confirm-order",
        invoke: async (d) => {
          await orders.finish(d.orderId, "completed");
          return d;
        },
      },
    ],
    onCompensated: async (d, error) => {
      await orders.finish(d.orderId, "cancelled", error);
    },
  });
}
