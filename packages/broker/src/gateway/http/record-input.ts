// The body of `POST /api/topics/{name}/records`: records as JSON (text, base64 or any JSON value) turned into
// the bytes the stream domain appends. Invariant: every record is checked before any is produced, and an
// error names the record and the field (`records[3].value`).

import type { RecordHeader } from "@spindle/protocol";
import type { RecordToProduce } from "../../streams/index.ts";
import { badRequest, intValue, objectValue } from "./params.ts";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** `string` and `json` (what the browser names JSON text) are UTF-8 text; `base64` is decoded. */
function encodingOf(value: unknown, what: string): "text" | "base64" {
  if (value === undefined || value === null || value === "string" || value === "json") return "text";
  if (value === "base64") return "base64";
  throw badRequest(`${what} must be "string", "json" or "base64", not ${JSON.stringify(value)}`);
}

function bytesOf(text: string, encoding: "text" | "base64", what: string): Buffer {
  if (encoding === "text") return Buffer.from(text, "utf8");
  if (!BASE64.test(text)) throw badRequest(`${what} is not valid base64`);
  return Buffer.from(text, "base64");
}

function keyBytes(r: Record<string, unknown>, what: string): Buffer | null {
  if (r.key === undefined || r.key === null) return null;
  if (typeof r.key !== "string") throw badRequest(`${what}.key must be a string or null`);
  return bytesOf(r.key, encodingOf(r.key_encoding, `${what}.key_encoding`), `${what}.key`);
}

/** A string is the value's text (or base64); any other JSON value is sent serialised; null is a tombstone. */
function valueBytes(r: Record<string, unknown>, what: string): Buffer | null {
  if (r.value === undefined) throw badRequest(`${what}.value is missing (null for a record without value)`);
  if (r.value === null) return null;
  const encoding = encodingOf(r.value_encoding, `${what}.value_encoding`);
  if (typeof r.value === "string") return bytesOf(r.value, encoding, `${what}.value`);
  if (encoding === "base64") throw badRequest(`${what}.value must be a string to be base64`);
  return Buffer.from(JSON.stringify(r.value), "utf8");
}

function headerList(r: Record<string, unknown>, what: string): RecordHeader[] {
  const given = objectValue(r.headers, `${what}.headers`);
  if (given === undefined) return [];
  const encoding = encodingOf(r.headers_encoding, `${what}.headers_encoding`);
  const out: RecordHeader[] = [];
  for (const [key, v] of Object.entries(given)) {
    for (const one of Array.isArray(v) ? v : [v]) {
      if (one !== null && typeof one !== "string") {
        throw badRequest(`${what}.headers.${key} must be a string, null or an array of them`);
      }
      out.push({ key, value: one === null ? null : bytesOf(one, encoding, `${what}.headers.${key}`) });
    }
  }
  return out;
}

/** The records of a produce body, `{"records": [{"key"?, "value", "headers"?, "partition"?}, …]}`. */
export function recordsToProduce(body: Record<string, unknown>): RecordToProduce[] {
  const list = body.records;
  if (!Array.isArray(list) || list.length === 0) {
    throw badRequest('give the records as {"records": [{"key": …, "value": …}, …]} (at least one)');
  }
  return list.map((item, i) => {
    const what = `records[${i}]`;
    const r = objectValue(item, what) as Record<string, unknown>;
    return {
      key: keyBytes(r, what),
      value: valueBytes(r, what),
      headers: headerList(r, what),
      partition: intValue(r.partition, `${what}.partition`, 0) ?? null,
    };
  });
}
