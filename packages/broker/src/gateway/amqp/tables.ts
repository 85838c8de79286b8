// Field tables ⇄ the JSON-safe plain values the queue model stores (arguments, headers for routing).
// Invariant: the result always survives JSON.stringify: int64 → number, bytes → string, Date → seconds.

import * as amqp from "@spindle/protocol/amqp";

export function plainValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  if (Array.isArray(v)) return v.map(plainValue);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainValue(x)]));
  }
  return v;
}

/** A table argument as a plain object (a Typed "F" table with odd keys is flattened to string keys). */
export function plainTable(t: amqp.AmqpTable | undefined): Record<string, unknown> {
  if (t === undefined) return {};
  const v =
    t instanceof amqp.Typed ? amqp.fieldValueToPlain(t) : amqp.fieldValueToPlain(t as amqp.FieldTable);
  return plainValue(v) as Record<string, unknown>;
}
