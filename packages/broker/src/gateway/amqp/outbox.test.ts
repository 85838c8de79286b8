// The outbox holds a turn's output for a delivery's record (content(…, after)): nothing reaches the socket
// before it settles, later output waits behind it, bytes arrive in the order written, end() closes after
// them. Over a real loopback socket.

import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import { test } from "node:test";
import * as amqp from "@spindle/protocol/amqp";
import { systemClock } from "../../lib/index.ts";
import { createMessage } from "../../queues/index.ts";
import { Outbox } from "./outbox.ts";

const turn = () => new Promise<void>((r) => setImmediate(r));

async function socketPair(): Promise<{ server: Socket; client: Socket; close: () => void }> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as { port: number };
  const client = tcpConnect(port, "127.0.0.1");
  const [server] = (await once(srv, "connection")) as [Socket];
  const close = () => {
    client.destroy();
    server.destroy();
    srv.close();
  };
  return { server, client, close };
}

test("output after a held delivery leaves once the delivery's record is written, in order", async () => {
  const { server, client, close } = await socketPair();
  const received: Buffer[] = [];
  client.on("data", (b: Buffer) => received.push(b));
  const out = new Outbox(server, () => {}, systemClock);
  let written = () => {};
  const record = new Promise<void>((r) => {
    written = r;
  });
  const message = createMessage({
    exchange: "",
    routingKey: "q",
    properties: Buffer.from([0, 0]),
    body: Buffer.from("poison"),
    persistent: true,
  });
  const deliver = amqp.createMethod("basic.deliver", {
    consumerTag: "c",
    deliveryTag: 1n,
    exchange: "",
    routingKey: "q",
  });
  out.write(Buffer.from("<before>"));
  out.content(1, deliver, message, 4096, record);
  await turn();
  out.write(Buffer.from("<next turn>"));
  await turn();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(received.length, 0, "nothing leaves before the record is written");
  assert.ok(out.backlogged === false);
  written();
  out.end();
  await once(client, "end");
  const all = Buffer.concat(received).toString("latin1");
  assert.ok(all.startsWith("<before>"), all);
  assert.ok(all.indexOf("poison") < all.indexOf("<next turn>"), "the next turn's bytes came after");
  assert.ok(all.endsWith("<next turn>"));
  close();
});
