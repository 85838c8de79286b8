// A hand-driven AMQP peer over a raw socket, for what client libraries hide: missed heartbeats close the
// connection, frames above frame_max get 501, AMQPLAIN login works, frames before open are refused.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as amqp from "@spindle/protocol/amqp";
import { rawAmqpPeer } from "../../../../../test/support/raw-amqp.ts";
import { FakeClock } from "../../testing/index.ts";
import { startTestBroker, type TestBroker } from "./test-broker.ts";

let broker: TestBroker;
before(async () => {
  broker = await startTestBroker();
});
after(() => broker.close());

async function handshake(heartbeat: number, mechanism = "PLAIN", port = broker.port) {
  const p = await rawAmqpPeer(port);
  const start = await p.next();
  assert.equal(start?.type === "method" && start.method.name, "connection.start");
  const response =
    mechanism === "PLAIN"
      ? Buffer.from("\0guest\0guest")
      : (() => {
          const w = new amqp.WireWriter(64);
          amqp.encodeFieldTable(w, { LOGIN: "guest", PASSWORD: "guest" });
          return w.finish().subarray(4);
        })();
  p.send(0, amqp.createMethod("connection.start-ok", { clientProperties: {}, mechanism, response }));
  const tune = await p.next();
  assert.equal(tune?.type === "method" && tune.method.name, "connection.tune");
  p.send(0, amqp.createMethod("connection.tune-ok", { channelMax: 10, frameMax: 4096, heartbeat }));
  p.send(0, amqp.createMethod("connection.open", { virtualHost: "/" }));
  const ok = await p.next();
  assert.equal(ok?.type === "method" && ok.method.name, "connection.open-ok");
  return p;
}

test("AMQPLAIN login; heartbeats on fake time: sent when quiet, a peer silent for two periods is cut off", async () => {
  const clock = new FakeClock();
  const fake = await startTestBroker(undefined, clock);
  try {
    const p = await handshake(1, "AMQPLAIN", fake.port);
    clock.advance(499);
    clock.advance(1); // half the 1 s heartbeat with nothing written: the server sends one
    assert.equal((await p.next())?.type, "heartbeat");
    clock.advance(1500); // silent for 2 s: not yet more than two heartbeats
    for (let i = 0; i < 3; i++) assert.equal((await p.next())?.type, "heartbeat");
    assert.equal(p.socket.destroyed, false);
    clock.advance(500);
    assert.equal(await p.next(), null, "closed once the peer was silent for more than 2 s");
  } finally {
    await fake.close();
  }
});

test("a frame larger than the negotiated frame_max is a 501 connection error", async () => {
  const p = await handshake(0);
  const big = amqp.encodeRawFrame({ type: amqp.FRAME_BODY, channel: 1, payload: Buffer.alloc(5000) });
  p.socket.write(big);
  const f = await p.next();
  assert.ok(f?.type === "method" && f.method.name === "connection.close");
  assert.equal(f.method.args.replyCode, 501);
  p.socket.destroy();
});

test("a channel method before channel.open is a 504 connection error", async () => {
  const p = await handshake(0);
  p.send(3, amqp.createMethod("queue.declare", { queue: "x" }));
  const f = await p.next();
  assert.ok(f?.type === "method" && f.method.name === "connection.close");
  assert.equal(f.method.args.replyCode, 504);
  p.socket.destroy();
});
