// A hand-driven AMQP handshake over a socket, for what amqplib hides: the class and method a broker names
// in a connection.close during the handshake (amqplib reports only "got <ConnectionClose channel:0>").
// Invariant: the socket is always destroyed, and the result never contains run-specific values.

import { connect } from "node:net";
import * as amqp from "@spindle/protocol/amqp";

/** Logs in with `user`/`pass` and opens `vhost`; reports how the broker answered: "open-ok", or
 *  "close <code> on <class>.<method>: <text>", or what happened to the socket. */
export function rawHandshake(url: string, user: string, pass: string, vhost: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(u.port || 5672), u.hostname, () => socket.write(amqp.PROTOCOL_HEADER));
    const reader = new amqp.FrameReader(1 << 20);
    const send = (method: amqp.AmqpMethod) =>
      socket.write(amqp.encodeFrame({ type: "method", channel: 0, method }));
    const done = (what: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(what);
    };
    const timer = setTimeout(() => done("no answer in 3 s"), 3000);
    socket.on("error", () => done("socket error"));
    socket.on("close", () => done("socket closed"));
    socket.on("data", (chunk) => {
      for (const raw of reader.push(chunk)) {
        const f = amqp.decodeFrame(raw);
        if (f.type !== "method") continue;
        const m = f.method;
        if (m.name === "connection.start") {
          const response = Buffer.from(`\0${user}\0${pass}`);
          send(
            amqp.createMethod("connection.start-ok", { clientProperties: {}, mechanism: "PLAIN", response }),
          );
        } else if (m.name === "connection.tune") {
          // RabbitMQ resets the connection on channel_max 0 (it reads 0 as "over its limit")
          const { channelMax, frameMax } = m.args;
          send(amqp.createMethod("connection.tune-ok", { channelMax, frameMax, heartbeat: 0 }));
          send(amqp.createMethod("connection.open", { virtualHost: vhost }));
        } else if (m.name === "connection.open-ok") done("open-ok");
        else if (m.name === "connection.close") {
          const a = m.args;
          done(`close ${a.replyCode} on ${a.classId}.${a.methodId}: ${a.replyText}`);
        }
      }
    });
  });
}
