// What a peek's or a move's `filter` matches: a substring (case-sensitive) of the payload, or of any header
// value (nested ones too, as in x-death). Invariant: the payload is matched as bytes, so text in any
// encoding-compatible form and binary payloads both work; headers are decoded only when the payload misses.

import type { Message } from "../../queues/index.ts";
import { propertiesToJson } from "./message-json.ts";
import { badRequest } from "./params.ts";

/** Longer filters are refused: they would be copied into every comparison. */
const FILTER_BYTES_MAX = 4096;

/** The matcher for `filter`, or undefined when there is none (every message matches). */
export function messageFilter(filter: unknown, what = "filter"): ((m: Message) => boolean) | undefined {
  if (filter === undefined || filter === null || filter === "") return undefined;
  if (typeof filter !== "string")
    throw badRequest(`'${what}' must be a string, not ${JSON.stringify(filter)}`);
  const needle = Buffer.from(filter);
  if (needle.length > FILTER_BYTES_MAX)
    throw badRequest(`'${what}' must be at most ${FILTER_BYTES_MAX} bytes`);
  return (m) => m.body.includes(needle) || valueIncludes(propertiesToJson(m.properties).headers, filter);
}

function valueIncludes(v: unknown, s: string): boolean {
  if (typeof v === "string") return v.includes(s);
  if (typeof v === "number" || typeof v === "boolean") return String(v).includes(s);
  if (Array.isArray(v)) return v.some((x) => valueIncludes(x, s));
  if (v !== null && typeof v === "object") return Object.values(v).some((x) => valueIncludes(x, s));
  return false;
}
