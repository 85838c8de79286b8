// Reading the management API's path segments, query parameters and JSON fields as RabbitMQ reads them.
// Invariant: a value that cannot be used is refused with an INVALID_REQUEST (400) or NOT_FOUND (404) that
// names the field and what it must be; nothing is coerced silently beyond what RabbitMQ coerces.

import type { Context } from "hono";
import { BrokerError } from "../../lib/index.ts";
import { VHOST } from "../../queues/index.ts";

/** The connection id HTTP requests act as: they own no exclusive queue, so others' are refused (405). */
export const HTTP_OWNER = "http-api";

/** The vhost of the path ("/" is written %2F); Spindle has the one. */
export function vhostParam(c: Context): string {
  const v = c.req.param("vhost") ?? "";
  if (v !== VHOST) throw new BrokerError("NOT_FOUND", `no vhost '${v}' (Spindle has the one vhost '/', %2F)`);
  return v;
}

/** A name from the path; RabbitMQ's API names the default exchange "amq.default". */
export function exchangeName(raw: string | undefined): string {
  const name = raw ?? "";
  return name === "amq.default" ? "" : name;
}

const bad = (reason: string) => new BrokerError("INVALID_REQUEST", reason);

/** A boolean field: true/false, or "true"/"false" as rabbitmqadmin sends them. */
export function boolField(body: Readonly<Record<string, unknown>>, key: string, fallback: boolean): boolean {
  const v = body[key];
  if (v === undefined || v === null) return fallback;
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  throw bad(`'${key}' must be true or false, not ${JSON.stringify(v)}`);
}

/** A non-negative integer field, as a number or a string of digits. */
export function intField(body: Readonly<Record<string, unknown>>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw bad(`'${key}' must be a non-negative integer, not ${JSON.stringify(v)}`);
  }
  return n;
}

export function stringField(body: Readonly<Record<string, unknown>>, key: string, fallback?: string): string {
  const v = body[key];
  if ((v === undefined || v === null) && fallback !== undefined) return fallback;
  if (typeof v !== "string") {
    throw bad(
      v === undefined ? `'${key}' is missing` : `'${key}' must be a string, not ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** The `arguments` table: an object (absent means none). */
export function argsField(
  body: Readonly<Record<string, unknown>>,
  key = "arguments",
): Record<string, unknown> {
  const v = body[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v)) {
    throw bad(`'${key}' must be a JSON object, not ${JSON.stringify(v)}`);
  }
  return v as Record<string, unknown>;
}

/** A query parameter RabbitMQ treats as a flag (`?if-unused=true`). */
export function queryFlag(c: Context, name: string): boolean {
  return c.req.query(name) === "true";
}

/** An integer (from min to max when given), or undefined when absent: query parameters and nested fields,
 *  named in the error by `what` (`limit`, `records[3].partition`). */
export function intValue(
  value: unknown,
  what: string,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === "string" && /^-?\d{1,16}$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min || n > max) {
    const range =
      min === Number.MIN_SAFE_INTEGER
        ? ""
        : max === Number.MAX_SAFE_INTEGER
          ? ` of at least ${min}`
          : ` from ${min} to ${max}`;
    throw bad(`'${what}' must be an integer${range}, not ${JSON.stringify(value)}`);
  }
  return n;
}

/** A JSON object field, or undefined when absent. */
export function objectValue(value: unknown, what: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw bad(`'${what}' must be a JSON object, not ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

/** A 400 whose reason says what to change. */
export function badRequest(reason: string): BrokerError {
  return bad(reason);
}
