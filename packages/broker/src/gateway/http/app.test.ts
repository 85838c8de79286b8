// Unit tests for the HTTP app, through `app.request()` with no socket.
// Invariant: each assertion fails if the route, its payload or the auth rule changes.

import assert from "node:assert/strict";
import { test } from "node:test";
import { createHttpApp } from "./app.ts";

const GUEST = `Basic ${Buffer.from("guest:guest").toString("base64")}`;

test("GET /healthz answers 200 with status ok, without credentials", async () => {
  const res = await createHttpApp().request("/healthz");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  assert.deepEqual(await res.json(), { status: "ok" });
});

test("an unknown path answers 404 in RabbitMQ's error shape", async () => {
  const res = await createHttpApp().request("/nope");
  assert.equal(res.status, 404);
  const body = (await res.json()) as { error: string; reason: string };
  assert.equal(body.error, "Object Not Found");
  assert.match(body.reason, /GET \/nope/);
});

test("/api without credentials, or with wrong ones, answers 401 with a Basic challenge", async () => {
  const app = createHttpApp(undefined, { remote: () => "127.0.0.1" });
  for (const authorization of [undefined, `Basic ${Buffer.from("guest:nope").toString("base64")}`]) {
    const res = await app.request("/api/overview", authorization ? { headers: { authorization } } : {});
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", /^Basic realm=/);
    assert.deepEqual(await res.json(), { error: "not_authorised", reason: "Login failed" });
  }
});

test("guest from a non-loopback address is refused, as RabbitMQ refuses it", async () => {
  const app = createHttpApp(undefined, { remote: () => "10.1.2.3" });
  const res = await app.request("/api/overview", { headers: { authorization: GUEST } });
  assert.equal(res.status, 401);
  assert.match(((await res.json()) as { reason: string }).reason, /only log in via localhost/);
});

test("guest from loopback passes the auth check", async () => {
  const app = createHttpApp(undefined, { remote: () => "::1" });
  const res = await app.request("/api/overview", { headers: { authorization: GUEST } });
  // no context: no API routes are mounted, so the request goes through auth to the 404
  assert.equal(res.status, 404);
});
