// A publish's header table, kept as the bytes the client sent (checked when the content header was read)
// until something needs a value of it: a headers exchange, a delayed exchange's x-delay. Most messages are
// routed without it, and decoding five CloudEvents headers per publish was ~10% of the broker's CPU.
// Invariant: what these answer equals plainTable of the fully decoded table.

import * as amqp from "@spindle/protocol/amqp";
import { delayOf, type HeadersOf, headersOnce, knownHeaders } from "../../queues/index.ts";
import { plainTable } from "./tables.ts";

const NONE = knownHeaders(undefined);

/** The table's plain values, decoded on the first call only. */
export function headersOfTable(table: Buffer | undefined): HeadersOf {
  if (table === undefined) return NONE;
  return headersOnce(() => plainTable(amqp.decodeFieldTable(new amqp.WireReader(table, "headers"))));
}

/** An x-delay key as it is written in a table: its shortstr length, then its name. */
const X_DELAY_KEY = Buffer.from("\x07x-delay", "latin1");

/** The x-delay of a publish: a table can only hold the key if these bytes are in it, so the others are
 *  never decoded for it. */
export function delayOfTable(table: Buffer | undefined, headers: HeadersOf): number {
  return table?.includes(X_DELAY_KEY) ? delayOf(headers()) : 0;
}
