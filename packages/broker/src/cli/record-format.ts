// kcat's `-f` output format for consumed records and messages: %s (or %v) value, %k key, %t topic,
// %p partition, %o offset, %T timestamp, %h headers, %S/%K lengths; \n \r \t \\ \xHH escapes.
// Invariant: bytes are written as stored (a binary value is not re-encoded); an unknown token is a usage error.

import { usageError } from "./errors.ts";

/** One record or message, as the formats see it. */
export interface Item {
  readonly topic: string;
  readonly partition?: number;
  readonly offset?: number;
  readonly timestamp?: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
}

type Part = (item: Item) => Buffer;

const text = (s: string): Buffer => Buffer.from(s, "utf8");
const num = (n: number | undefined): Buffer => text(n === undefined ? "" : String(n));

const TOKENS: Readonly<Record<string, Part>> = {
  s: (i) => i.value ?? Buffer.alloc(0),
  v: (i) => i.value ?? Buffer.alloc(0),
  S: (i) => num(i.value === null ? -1 : i.value.length),
  k: (i) => i.key ?? Buffer.alloc(0),
  K: (i) => num(i.key === null ? -1 : i.key.length),
  t: (i) => text(i.topic),
  p: (i) => num(i.partition),
  o: (i) => num(i.offset),
  T: (i) => num(i.timestamp),
  h: (i) =>
    text(
      Object.entries(i.headers)
        .map(([k, v]) => `${k}=${v}`)
        .join(","),
    ),
  "%": () => text("%"),
};

const ESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", "\\": "\\" };

/** The formatter for `format`; without one, the value and a newline (kcat's default). */
export function compileFormat(format: string | undefined): (item: Item) => Buffer {
  if (format === undefined) return (i) => Buffer.concat([i.value ?? Buffer.alloc(0), text("\n")]);
  const parts: Part[] = [];
  let literal = "";
  const flush = () => {
    if (literal === "") return;
    const bytes = Buffer.from(literal, "latin1");
    parts.push(() => bytes);
    literal = "";
  };
  const chars = [...format]; // code points, so a character outside the BMP stays whole
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const next = chars[i + 1];
    const hex = chars.slice(i + 2, i + 4).join("");
    if (c === "%" && next !== undefined && TOKENS[next] !== undefined) {
      flush();
      parts.push(TOKENS[next]);
      i++;
    } else if (c === "%") {
      throw usageError(
        `-f ${JSON.stringify(format)}: unknown token %${next ?? ""}; use %s %k %t %p %o %T %h %S %K`,
      );
    } else if (c === "\\" && next === "x" && /^[0-9a-fA-F]{2}$/.test(hex)) {
      literal += String.fromCharCode(Number.parseInt(hex, 16));
      i += 3;
    } else if (c === "\\" && next !== undefined && ESCAPES[next] !== undefined) {
      literal += ESCAPES[next];
      i++;
    } else {
      literal += Buffer.from(c, "utf8").toString("latin1"); // kept as its UTF-8 bytes
    }
  }
  flush();
  return (item) => Buffer.concat(parts.map((p) => p(item)));
}
