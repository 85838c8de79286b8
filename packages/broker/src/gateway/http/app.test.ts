// Unit tests for the HTTP app, through `app.request()` with no socket.
// Invariant: each assertion fails if the route or its payload changes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { createHttpApp } from "./app.ts";

test("GET /healthz answers 200 with status ok", async () => {
  const res = await createHttpApp().request("/healthz");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  assert.deepEqual(await res.json(), { status: "ok" });
});

test("an unknown path answers 404 as JSON", async () => {
  const res = await createHttpApp().request("/nope");
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { error: string }).error, "not_found");
});
