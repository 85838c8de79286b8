// What a peek's or a move's `filter` matches: a substring (case-sensitive) of the payload, or of any string
// header value (nested ones too, as in x-death). Invariant: matched as bytes, so binary payloads work too;
// the headers are decoded only when the stored property bytes contain the filter at all (a string value's
// bytes are stored as they are), which keeps a scan that matches nothing cheap.

import type { Message } from "../../queues/index.ts";
import { propertiesToJson } from "./message-json.ts";
import { badRequest } from "./params.ts";

/** A filter is a substring to look for, not a document. */
const FILTER_BYTES_MAX = 4096;

/** The matcher for `filter`, or undefined when there is none (every message matches). */
export function messageFilter(filter: unknown, what = "filter"): ((m: Message) => boolean) | undefined {
  if (filter === undefined || filter === null || filter === "") return undefined;
  if (typeof filter !== "string")
    throw badRequest(`'${what}' must be a string, not ${JSON.stringify(filter)}`);
  const needle = Buffer.from(filter);
  if (needle.length > FILTER_BYTES_MAX)
    throw badRequest(`'${what}' must be at most ${FILTER_BYTES_MAX} bytes`);
  return (m) =>
    m.body.includes(needle) ||
    (m.properties.includes(needle) && valueIncludes(propertiesToJson(m.properties).headers, filter));
}

function valueIncludes(v: unknown, s: string): boolean {
  if (typeof v === "string") return v.includes(s);
  if (Array.isArray(v)) return v.some((x) => valueIncludes(x, s));
  if (v !== null && typeof v === "object") return Object.values(v).some((x) => valueIncludes(x, s));
  return false;
}
