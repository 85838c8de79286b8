// The console's static files through `app.request()`, from a real temp directory.
// Invariant: each assertion fails if a content type, a cache rule, the unbuilt page or the traversal guard
// changes.

import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { tempDir } from "../../testing/index.ts";
import { consoleRoutes } from "./console.ts";

function built(): string {
  const root = tempDir("console");
  const dir = join(root, "console");
  mkdirSync(join(dir, "assets"), { recursive: true });
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>Spindle</title>");
  writeFileSync(join(dir, "assets", "index-abc123.js"), "console.log(1)");
  writeFileSync(join(dir, "assets", "index-abc123.css"), "body{}");
  writeFileSync(join(root, "secret.js"), "not for you");
  return dir;
}

test("/ and /index.html answer index.html, never cached, with a same-origin CSP", async () => {
  const app = consoleRoutes(built());
  for (const path of ["/", "/index.html"]) {
    const res = await app.request(path);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.equal(await res.text(), "<!doctype html><title>Spindle</title>");
  }
});

test("hashed assets answer with their content type and a year's immutable cache", async () => {
  const app = consoleRoutes(built());
  const js = await app.request("/assets/index-abc123.js");
  assert.equal(js.status, 200);
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
  assert.equal(js.headers.get("x-content-type-options"), "nosniff");
  assert.equal(await js.text(), "console.log(1)");
  const css = await app.request("/assets/index-abc123.css");
  assert.equal(css.headers.get("content-type"), "text/css; charset=utf-8");
});

test("a missing asset, an unknown type or a path out of the directory answers 404", async () => {
  const app = consoleRoutes(built());
  for (const path of [
    "/assets/nope.js",
    "/assets/index-abc123.exe",
    "/assets/..%2fsecret.js",
    "/assets/%2e%2e%2f%2e%2e%2fsecret.js",
    "/assets/.hidden.js",
  ]) {
    const res = await app.request(path);
    assert.equal(res.status, 404, path);
    assert.doesNotMatch(await res.text(), /not for you/, path);
  }
});

test("an unbuilt console answers / with a page that says to run npm run build", async () => {
  for (const dir of [undefined, join(tempDir("console"), "missing")]) {
    const res = await consoleRoutes(dir).request("/");
    assert.equal(res.status, 503);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await res.text(), /npm run build/);
  }
});
