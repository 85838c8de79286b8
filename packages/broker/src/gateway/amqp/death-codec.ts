// x-death as RabbitMQ 3.10 writes it: newest death first, one entry per (queue, reason) with a count,
// x-first-death-* set once, the expiration property moved into the entry as original-expiration.
// Invariant: the other properties and headers come through byte-for-byte equivalent.

import * as amqp from "@spindle/protocol/amqp";
import type { Death, DeathCodec, Message } from "../../queues/index.ts";
import { plainTable } from "./tables.ts";

function encodeProperties(p: amqp.BasicProperties): Buffer {
  const w = new amqp.WireWriter(64);
  amqp.encodeBasicProperties(w, p);
  return w.finish();
}

function decode(properties: Buffer): amqp.BasicProperties {
  return amqp.decodeBasicProperties(new amqp.WireReader(properties, "stored properties"));
}

function countOf(v: amqp.FieldValue | undefined): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof amqp.Typed && (typeof v.value === "number" || typeof v.value === "bigint"))
    return Number(v.value);
  return 0;
}

function sortedKeys(t: amqp.FieldTable): amqp.FieldTable {
  return Object.fromEntries(Object.entries(t).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export const amqpDeathCodec: DeathCodec = {
  addDeath(m: Message, d: Death) {
    const props = decode(m.properties);
    const headers: amqp.FieldTable = { ...((props.headers as amqp.FieldTable | undefined) ?? {}) };
    const deaths = Array.isArray(headers["x-death"]) ? [...(headers["x-death"] as amqp.FieldValue[])] : [];
    const i = deaths.findIndex((e) => {
      const t = e as amqp.FieldTable;
      return t !== null && typeof t === "object" && t.queue === d.queue && t.reason === d.reason;
    });
    const previous = i >= 0 ? (deaths.splice(i, 1)[0] as amqp.FieldTable) : undefined;
    // an existing entry keeps its fields and gets a new count; RabbitMQ writes the updated table with
    // its keys sorted, a fresh one in the order below
    const count = amqp.typed("l", BigInt(countOf(previous?.count) + 1));
    const entry: amqp.FieldTable =
      previous !== undefined
        ? sortedKeys({ ...previous, count })
        : {
            count,
            reason: d.reason,
            queue: d.queue,
            time: amqp.typed("T", BigInt(Math.floor(d.timeMs / 1000))),
            exchange: d.exchange,
            "routing-keys": [...d.routingKeys],
          };
    if (previous === undefined && props.expiration !== undefined)
      entry["original-expiration"] = props.expiration;
    deaths.unshift(entry);
    headers["x-death"] = deaths;
    if (headers["x-first-death-exchange"] === undefined) {
      headers["x-first-death-exchange"] = d.exchange;
      headers["x-first-death-queue"] = d.queue;
      headers["x-first-death-reason"] = d.reason;
    }
    const next: amqp.BasicProperties = { ...props, headers };
    delete next.expiration;
    return { properties: encodeProperties(next), headers: plainTable(headers) };
  },
  headersOf(properties: Buffer) {
    return plainTable(decode(properties).headers);
  },
};
