// Unit tests for lazySocketHandler: one load, sockets handed over in accept order, a failed load closes them.
// Invariant: unconnected node:net sockets stand in for accepted ones; no port is opened.

import assert from "node:assert/strict";
import { Socket } from "node:net";
import { test } from "node:test";
import { lazySocketHandler, type SocketHandler } from "./lazy-socket-handler.ts";

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("loads once, on the first connection, and hands over every socket in accept order", async () => {
  const load = deferred<SocketHandler>();
  let loads = 0;
  const handle = lazySocketHandler(
    () => {
      loads++;
      return load.promise;
    },
    () => assert.fail("no load error"),
  );
  assert.equal(loads, 0, "nothing loads before a connection");
  const sockets = [new Socket(), new Socket(), new Socket()];
  for (const s of sockets.slice(0, 2)) handle(s);
  assert.equal(loads, 1);
  const handed: Socket[] = [];
  load.resolve((s) => handed.push(s));
  handle(sockets[2]!);
  await settle();
  assert.equal(loads, 1);
  assert.deepEqual(handed, sockets);
  handle(sockets[0]!);
  assert.equal(handed.length, 4, "after the load a socket is handed over at once");
});

test("a socket that errors or closes while loading is not handed over and does not throw", async () => {
  const load = deferred<SocketHandler>();
  const handle = lazySocketHandler(
    () => load.promise,
    () => {},
  );
  const reset = new Socket();
  handle(reset);
  reset.emit("error", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
  reset.destroy();
  const live = new Socket();
  handle(live);
  const handed: Socket[] = [];
  load.resolve((s) => handed.push(s));
  await settle();
  assert.deepEqual(handed, [live]);
  assert.equal(live.listenerCount("error"), 0, "the placeholder error listener is removed on hand-over");
});

test("a failed load is reported once and every waiting and later socket is destroyed", async () => {
  const errors: unknown[] = [];
  const handle = lazySocketHandler(
    () => Promise.reject(new Error("Cannot find module")),
    (e) => errors.push(e),
  );
  const waiting = [new Socket(), new Socket()];
  for (const s of waiting) handle(s);
  await settle();
  const later = new Socket();
  handle(later);
  await settle();
  assert.equal(errors.length, 1);
  for (const s of [...waiting, later]) assert.equal(s.destroyed, true);
});
