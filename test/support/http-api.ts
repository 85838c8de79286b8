// A small client of Spindle's HTTP API for tests: JSON in and out, guest/guest basic auth.
// Invariant: it reports what the server answered (status, headers, parsed body) and never retries.

export const GUEST_AUTH = `Basic ${Buffer.from("guest:guest").toString("base64")}`;

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  /** the parsed JSON body, or the text when it is not JSON, or undefined when empty */
  readonly body: T;
}

/** `http`: the broker's `host:port` (SpindleProcess.http). */
export function httpApi(http: string, auth: string | null = GUEST_AUTH) {
  const base = `http://${http}`;
  return async function api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    if (auth !== null) headers.authorization = auth;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(base + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text === "" ? undefined : text;
    if ((res.headers.get("content-type") ?? "").includes("json") && text !== "") parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T };
  };
}

/** A path segment as the management API expects it: the default vhost "/" is %2F. */
export const vhostPath = (vhost = "/"): string => encodeURIComponent(vhost);
