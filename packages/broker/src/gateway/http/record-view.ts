// How a stored record is shown over HTTP: text as text, JSON pretty-printed, anything else as base64.
// Invariant: nothing is lost — JSON is re-indented token by token (big numbers keep their digits, repeated
// keys stay), and bytes that are not text are base64, with the encoding named beside each field.

import type { RecordHeader } from "@spindle/protocol";
import type { StoredRecord } from "../../streams/index.ts";

export type Encoding = "json" | "string" | "base64";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** True for C0 controls other than tab, LF and CR, and DEL: they mark binary data that happens to be UTF-8. */
function hasControls(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}

/** The bytes as text when they are valid UTF-8 without control characters, else null. */
export function asText(bytes: Uint8Array): string | null {
  let s: string;
  try {
    s = utf8.decode(bytes);
  } catch {
    return null;
  }
  return hasControls(s) ? null : s;
}

const isSpace = (c: string) => c === " " || c === "\n" || c === "\r" || c === "\t";

/**
 * Re-indents JSON text that JSON.parse accepted, two spaces per level as JSON.stringify(v, null, 2) does,
 * copying strings, numbers and literals as written.
 */
export function prettyJson(text: string): string {
  const out: string[] = [];
  let depth = 0;
  const newline = () => `\n${"  ".repeat(depth)}`;
  for (let i = 0; i < text.length; ) {
    const c = text[i] as string;
    if (isSpace(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out.push(text.slice(i, j + 1));
      i = j + 1;
    } else if (c === "{" || c === "[") {
      let j = i + 1;
      while (j < text.length && isSpace(text[j] as string)) j++;
      if (text[j] === "}" || text[j] === "]") {
        out.push(c === "{" ? "{}" : "[]");
        i = j + 1;
      } else {
        depth++;
        out.push(c, newline());
        i++;
      }
    } else if (c === "}" || c === "]") {
      depth--;
      out.push(newline(), c);
      i++;
    } else if (c === ",") {
      out.push(",", newline());
      i++;
    } else if (c === ":") {
      out.push(": ");
      i++;
    } else {
      let j = i;
      while (j < text.length && !isSpace(text[j] as string) && !",:]}".includes(text[j] as string)) j++;
      out.push(text.slice(i, j));
      i = j;
    }
  }
  return out.join("");
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A value: pretty JSON, text or base64; null (a tombstone) has no encoding. */
export function showValue(bytes: Buffer | null): { value: string | null; encoding: Encoding | null } {
  if (bytes === null) return { value: null, encoding: null };
  const text = asText(bytes);
  if (text === null) return { value: bytes.toString("base64"), encoding: "base64" };
  return isJson(text) ? { value: prettyJson(text), encoding: "json" } : { value: text, encoding: "string" };
}

/** A key: text or base64 (keys are identifiers: shown as stored, never re-indented). */
export function showKey(bytes: Buffer | null): { value: string | null; encoding: Encoding | null } {
  if (bytes === null) return { value: null, encoding: null };
  const text = asText(bytes);
  return text === null
    ? { value: bytes.toString("base64"), encoding: "base64" }
    : { value: text, encoding: "string" };
}

type HeaderValue = string | null;

/** Headers as `{key: value}` (a repeated key: an array of its values, as kafkajs gives them); all text, or all
 *  base64 when any value is not text. */
export function showHeaders(headers: readonly RecordHeader[]): {
  headers: Record<string, HeaderValue | HeaderValue[]>;
  encoding: "string" | "base64";
} {
  const texts = headers.map((h) => (h.value === null ? null : asText(h.value)));
  const binary = headers.some((h, i) => h.value !== null && texts[i] === null);
  const byKey = new Map<string, HeaderValue[]>();
  headers.forEach((h, i) => {
    const v = h.value === null ? null : binary ? h.value.toString("base64") : (texts[i] as string);
    const list = byKey.get(h.key);
    if (list === undefined) byKey.set(h.key, [v]);
    else list.push(v);
  });
  // fromEntries defines own properties, so a header named __proto__ is a header like any other
  const out = Object.fromEntries([...byKey].map(([k, vs]) => [k, vs.length === 1 ? (vs[0] ?? null) : vs]));
  return { headers: out, encoding: binary ? "base64" : "string" };
}

export function showRecord(partition: number, r: StoredRecord) {
  const key = showKey(r.key);
  const value = showValue(r.value);
  const headers = showHeaders(r.headers);
  return {
    partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: key.value,
    key_encoding: key.encoding,
    headers: headers.headers,
    headers_encoding: headers.encoding,
    value: value.value,
    value_encoding: value.encoding,
  };
}
