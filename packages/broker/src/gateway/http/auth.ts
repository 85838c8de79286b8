// Basic authentication of /api: `guest`/`guest` from a loopback address, as RabbitMQ allows its default
// user (until users exist). Invariant: every /api route sits behind it; /healthz, /metrics and the
// console's static files do not (the console sends the credentials with its own API calls).

import { getConnInfo } from "@hono/node-server/conninfo";
import type { MiddlewareHandler } from "hono";
import { isLoopback } from "../../lib/index.ts";
import { errorBody } from "./errors.ts";

const REALM = 'Basic realm="Spindle Management"';

function credentials(header: string | undefined): { user: string; pass: string } | null {
  if (header === undefined || !header.startsWith("Basic ")) return null;
  const text = Buffer.from(header.slice(6), "base64").toString("utf8");
  const colon = text.indexOf(":");
  return colon < 0 ? null : { user: text.slice(0, colon), pass: text.slice(colon + 1) };
}

/** `remote`: how to find the peer's address (tests calling `app.request()` have no socket). */
export function basicAuth(
  remote: (c: Parameters<MiddlewareHandler>[0]) => string | undefined = peer,
): MiddlewareHandler {
  return async (c, next) => {
    const cred = credentials(c.req.header("authorization"));
    if (cred === null || cred.user !== "guest" || cred.pass !== "guest") {
      c.header("WWW-Authenticate", REALM);
      return c.json(errorBody(401, "Login failed"), 401);
    }
    if (!isLoopback(remote(c))) {
      return c.json(errorBody(401, "User can only log in via localhost"), 401);
    }
    c.set("user" as never, cred.user as never);
    await next();
  };
}

function peer(c: Parameters<MiddlewareHandler>[0]): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}
