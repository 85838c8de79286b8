// HTTP errors in the RabbitMQ management API's shape, `{"error": …, "reason": …}`, and the status each
// BrokerError code answers with. Invariant: the map covers every code (the compiler checks it), and an
// error that is not a BrokerError is a 500 that names no internals beyond its message.

import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type ErrorCode, isBrokerError } from "../../lib/index.ts";

export const HTTP_STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  LOG_FAILED: 500,
  LOG_CLOSED: 503,
  DISK_FULL: 507,
  CORRUPT_RECORD: 500,
  INVALID_RECORD: 400,
  OFFSET_OUT_OF_RANGE: 416,
  MESSAGE_TOO_LARGE: 413,
  LIMIT_EXCEEDED: 429,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  INVALID_CONFIG: 400,
  STORAGE_UNAVAILABLE: 503,
  PRECONDITION_FAILED: 400,
  RESOURCE_LOCKED: 405,
  ACCESS_REFUSED: 403,
  INVALID_NAME: 400,
  INVALID_PARTITIONS: 400,
  INVALID_REQUEST: 400,
  RESOURCE_LIMIT: 503,
};

/** RabbitMQ's `error` word for a status. */
const ERROR_WORD: Partial<Record<number, string>> = {
  400: "bad_request",
  401: "not_authorised",
  403: "not_authorised",
  404: "Object Not Found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "too_many_requests",
  500: "internal_server_error",
  503: "unavailable",
  507: "insufficient_storage",
};

export function errorBody(status: number, reason: string): { error: string; reason: string } {
  return { error: ERROR_WORD[status] ?? "error", reason };
}

export function httpError(c: Context, status: ContentfulStatusCode, reason: string): Response {
  return c.json(errorBody(status, reason), status);
}

/** The response for anything a handler threw. */
export function errorResponse(c: Context, e: unknown): Response {
  if (isBrokerError(e)) return httpError(c, HTTP_STATUS[e.code], e.message);
  if (e instanceof SyntaxError) return httpError(c, 400, `the body is not valid JSON: ${e.message}`);
  return httpError(c, 500, e instanceof Error ? e.message : String(e));
}

/** The request's JSON body; a 400 (by throwing SyntaxError) when it is not an object. */
export async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  const body: unknown = text.trim() === "" ? {} : JSON.parse(text);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new SyntaxError("expected a JSON object");
  }
  return body as Record<string, unknown>;
}
