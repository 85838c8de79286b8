// Field tables ⇄ the JSON-safe plain values the queue model stores (arguments, headers for routing).
// Invariant: the result always survives JSON.stringify: int64 → number, bytes → string, Date → seconds.

import * as amqp from "@spindle/protocol/amqp";

/**
 * One walk from a decoded field value to a plain one (it runs for every published message with headers:
 * amqp.fieldValueToPlain followed by a second conversion pass cost twice the allocations).
 * Typed values lose their wire type: an odd boolean octet is a boolean, a table with odd keys gets string
 * keys, a non-UTF-8 long string is read as UTF-8, an int64 is a number.
 */
function plainValue(v: unknown): unknown {
  switch (typeof v) {
    case "string":
    case "number":
    case "boolean":
    case "undefined":
      return v;
    case "bigint":
      return Number(v);
  }
  if (v === null) return v;
  if (v instanceof amqp.Typed) return plainTyped(v as amqp.AnyTyped);
  if (Buffer.isBuffer(v)) return v.toString("utf8");
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  if (Array.isArray(v)) return v.map(plainValue);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v as object)) put(out, k, plainValue((v as Record<string, unknown>)[k]));
  return out;
}

/** out[k] = x, also for a "__proto__" key (which a table with odd keys may have): an own property. */
function put(out: Record<string, unknown>, k: string, x: unknown): void {
  if (k === "__proto__") Object.defineProperty(out, k, { value: x, enumerable: true, writable: true });
  else out[k] = x;
}

function plainTyped(t: amqp.AnyTyped): unknown {
  switch (t.type) {
    case "F": {
      const out: Record<string, unknown> = {};
      for (const [k, x] of t.value) put(out, String(k), plainValue(x));
      return out;
    }
    case "t":
      return t.value !== 0;
    case "S":
      return t.value.toString("utf8");
    default:
      return plainValue(t.value);
  }
}

/** A table argument as a plain object (a Typed "F" table with odd keys is flattened to string keys). */
export function plainTable(t: amqp.AmqpTable | undefined): Record<string, unknown> {
  if (t === undefined) return {};
  return plainValue(t) as Record<string, unknown>;
}
