// The admin commands' client of Spindle's HTTP API (docs/HTTP-API.md): JSON in and out, basic auth.
// Invariant: every failure becomes a CliError — the server's answer exits 1 with its reason, a
// connection that cannot be made (or is lost) exits 3 naming the URL; nothing is retried.

import { CliError, EXIT, usageError } from "./errors.ts";

export interface ClientOptions {
  readonly url: string;
  readonly user: string;
  readonly password: string;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  readonly body?: unknown;
  readonly query?: Query;
  /** what the path names, for a 404's message, e.g. `queue 'jobs' in vhost '/'` */
  readonly what?: string;
}

export interface ApiAnswer<T> {
  readonly status: number;
  readonly body: T;
}

/** A path segment: names may hold `/`, `#`, `%` (the default vhost `/` is `%2F`). */
export const seg = (name: string): string => encodeURIComponent(name);

export class ApiClient {
  readonly base: string;
  private readonly auth: string;

  constructor(readonly options: ClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw usageError(`--http-url ${JSON.stringify(options.url)} is not a URL; e.g. http://127.0.0.1:8080`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw usageError(`--http-url ${JSON.stringify(options.url)} must start with http:// or https://`);
    }
    this.base = url.href.replace(/\/+$/, "");
    this.auth = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString("base64")}`;
  }

  async get<T>(path: string, opts: RequestOptions = {}): Promise<T> {
    return (await this.request<T>("GET", path, opts)).body;
  }
  async put<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
    return (await this.request<T>("PUT", path, opts)).body;
  }
  async post<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
    return (await this.request<T>("POST", path, opts)).body;
  }
  async delete<T = unknown>(path: string, opts: RequestOptions = {}): Promise<T> {
    return (await this.request<T>("DELETE", path, opts)).body;
  }

  /** One request; the body is parsed JSON, the text when not JSON, undefined when empty. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiAnswer<T>> {
    const res = await this.send(method, path, opts, "application/json");
    const body = await this.read(res, method, path);
    if (!res.ok) throw this.failure(res.status, body, opts.what);
    return { status: res.status, body: body as T };
  }

  /**
   * A request whose answer is NDJSON (`Accept: application/x-ndjson`): `onLine` gets each object as it
   * arrives. An error object (`{"error", "reason"}`) as a line fails like an error status.
   */
  async ndjson(
    method: string,
    path: string,
    opts: RequestOptions,
    onLine: (o: unknown) => void,
  ): Promise<void> {
    const res = await this.send(method, path, opts, "application/x-ndjson");
    if (!res.ok || res.body === null)
      throw this.failure(res.status, await this.read(res, method, path), opts.what);
    if (!(res.headers.get("content-type") ?? "").includes("ndjson")) {
      onLine(await this.read(res, method, path)); // a server that answers in one piece
      return;
    }
    const decoder = new TextDecoder();
    let pending = "";
    const take = (line: string) => {
      if (line.trim() === "") return;
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch {
        throw new CliError(
          `${method} ${path} answered a line that is not JSON: ${line.slice(0, 200)}`,
          EXIT.server,
        );
      }
      if (isErrorBody(o)) throw this.failure(res.status, o, opts.what);
      onLine(o);
    };
    try {
      for await (const chunk of res.body) {
        pending += decoder.decode(chunk as Uint8Array, { stream: true });
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) take(line);
      }
    } catch (e) {
      throw e instanceof CliError ? e : this.lost(e, method, path);
    }
    take(pending + decoder.decode());
  }

  private async send(method: string, path: string, opts: RequestOptions, accept: string): Promise<Response> {
    const headers: Record<string, string> = { authorization: this.auth, accept };
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    try {
      return await fetch(this.base + path + queryString(opts.query), {
        method,
        headers,
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      });
    } catch (e) {
      throw this.unreachable(e);
    }
  }

  private async read(res: Response, method: string, path: string): Promise<unknown> {
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw this.lost(e, method, path);
    }
    if (text === "") return undefined;
    if (!(res.headers.get("content-type") ?? "").includes("json")) return text;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  private failure(status: number, body: unknown, what: string | undefined): CliError {
    const reason = oneLine(reasonOf(body) ?? `HTTP ${status}`);
    if (status === 401) {
      const who = JSON.stringify(this.options.user);
      return new CliError(
        `${this.base} refused user ${who}: ${reason}; set --user and --password`,
        EXIT.server,
      );
    }
    // RabbitMQ's 404 says only "Not Found"; then the command says what was not found.
    if (status === 404 && what !== undefined && /^(object )?not found$/i.test(reason)) {
      return new CliError(`no ${what} (HTTP 404)`, EXIT.server);
    }
    return new CliError(`${reason} (HTTP ${status})`, EXIT.server);
  }

  private unreachable(e: unknown): CliError {
    return new CliError(
      `cannot connect to ${this.base} (${causeOf(e)}): start the broker (spindle start) or point --http-url ` +
        "(env SPINDLE_HTTP_URL) at it",
      EXIT.unreachable,
    );
  }

  private lost(e: unknown, method: string, path: string): CliError {
    return new CliError(
      `lost the connection to ${this.base} during ${method} ${path} (${causeOf(e)})`,
      EXIT.unreachable,
    );
  }
}

function queryString(query: Query | undefined): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s === "" ? "" : `?${s}`;
}

function isErrorBody(o: unknown): o is { error: unknown; reason?: unknown } {
  return typeof o === "object" && o !== null && "error" in o;
}

function reasonOf(body: unknown): string | undefined {
  if (typeof body === "string" && body.trim() !== "") return body.trim();
  if (!isErrorBody(body)) return undefined;
  if (typeof body.reason === "string" && body.reason !== "") return body.reason;
  return typeof body.error === "string" ? body.error : undefined;
}

const oneLine = (s: string): string => s.replace(/\s*\n\s*/g, " ");

/** The system error under fetch's `TypeError: fetch failed` (ECONNREFUSED, ENOTFOUND, …). */
function causeOf(e: unknown): string {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur instanceof Error; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === "string") return code;
    if (cur.cause === undefined) return cur.message;
    cur = cur.cause;
  }
  return String(cur);
}
