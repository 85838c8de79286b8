// The web console's static files (built by packages/console into the broker's dist/console/), served at `/`.
// Invariant: only regular files directly in the console directory or its assets/ are served (names are
// checked, never joined raw), so no request reads outside it; hashed assets are cached for a year,
// index.html never.

import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { type Context, Hono } from "hono";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};

/** One path segment of letters, digits, `.`, `_`, `-`, not starting with a dot: no `..`, no `/`. */
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

// The page talks only to its own origin (the API); uPlot and preact set inline styles.
const CSP =
  "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Spindle</title>
<p>The web console has not been built. Run <code>npm run build</code> in the Spindle checkout, then
reload this page. The HTTP API is at <code>/api/</code>.</p>\n`;

/** `dir`: the built console (index.html, assets/); undefined or missing serves a page saying to build it. */
export function consoleRoutes(dir: string | undefined): Hono {
  const app = new Hono();
  const index = (c: Context) => serve(c, dir, "index.html", "no-cache");
  app.get("/", index);
  app.get("/index.html", index);
  app.get("/assets/:file", (c) => {
    const file = c.req.param("file");
    // Vite names every asset by its content hash, so a name never changes meaning
    return SAFE_NAME.test(file)
      ? serve(c, dir, `assets/${file}`, "public, max-age=31536000, immutable")
      : notFound(c);
  });
  return app;
}

async function serve(c: Context, dir: string | undefined, name: string, cache: string): Promise<Response> {
  const type = TYPES[extname(name)];
  if (type === undefined || dir === undefined) return missing(c, name);
  let body: Buffer;
  try {
    body = await readFile(join(dir, name));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return missing(c, name);
    throw e;
  }
  c.header("content-type", type);
  c.header("cache-control", cache);
  c.header("x-content-type-options", "nosniff");
  if (name === "index.html") c.header("content-security-policy", CSP);
  return c.body(new Uint8Array(body), 200);
}

function missing(c: Context, name: string): Response {
  if (name !== "index.html") return notFound(c);
  c.header("cache-control", "no-cache");
  return c.html(NOT_BUILT, 503);
}

function notFound(c: Context): Response {
  c.header("content-type", "text/plain; charset=utf-8");
  return c.body("not found\n", 404);
}
