// The console's one way to the HTTP API: fetch with the session's credentials, RabbitMQ-shaped errors.
// Invariant: every request carries the credentials; a 401 ends the session (the login form shows again).

import { authHeader, logout } from "./session.ts";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`${status}: ${reason}`);
  }
}

/** `/api/...` path segment for a resource of the one vhost `/`. */
export function vh(name: string): string {
  return `%2F/${encodeURIComponent(name)}`;
}

/** The raw response (for streamed answers); throws ApiError on a non-2xx status. */
export async function apiFetch(
  path: string,
  init: RequestInit = {},
  header = authHeader.value,
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (header !== null) headers.set("authorization", header);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const res = await fetch(`api/${path}`, { ...init, headers });
  if (res.ok) return res;
  const reason = await errorReason(res);
  if (res.status === 401 && header === authHeader.value) logout();
  throw new ApiError(res.status, reason);
}

async function errorReason(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { reason?: unknown; error?: unknown };
    if (typeof body.reason === "string") return body.reason;
    if (typeof body.error === "string") return body.error;
  } catch {
    // not JSON: the text itself says what went wrong
  }
  return text.trim() || res.statusText || "request failed";
}

/** A JSON call; resolves to undefined for an empty answer (201/204). */
export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await apiFetch(path, init);
  const text = await res.text();
  return (text === "" ? undefined : JSON.parse(text)) as T;
}

/** Lines of a streamed answer (NDJSON), each parsed, as they arrive. */
export async function* ndjson<T>(res: Response): AsyncGenerator<T> {
  for await (const line of lines(res)) if (line.trim() !== "") yield JSON.parse(line) as T;
}

/** The text lines of a streamed body, without their line ends. */
export async function* lines(res: Response): AsyncGenerator<string> {
  if (res.body === null) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += value;
      let nl = rest.indexOf("\n");
      while (nl >= 0) {
        yield rest.slice(0, nl).replace(/\r$/, "");
        rest = rest.slice(nl + 1);
        nl = rest.indexOf("\n");
      }
    }
    if (rest !== "") yield rest;
  } finally {
    reader.releaseLock();
  }
}
