// A hand-driven AMQP 0-9-1 peer over a raw socket, for what client libraries hide (unfinished bodies,
// trickled handshakes). Invariant: frames are decoded in arrival order; next() yields null once closed.

import { connect, type Socket } from "node:net";
import { amqp } from "@spindle/protocol";

export interface RawAmqpPeer {
  readonly socket: Socket;
  /** the next decoded frame, or null once the socket closed */
  next(): Promise<amqp.AmqpFrame | null>;
  /** the next method frame, skipping heartbeats and content; null once closed */
  nextMethod(): Promise<amqp.AmqpMethod | null>;
  send(channel: number, method: amqp.AmqpMethod): void;
  /** a basic.publish with its content header declaring `bodySize`, and no body */
  startPublish(channel: number, routingKey: string, bodySize: number): void;
  body(channel: number, payload: Buffer): boolean;
  readonly closed: Promise<void>;
}

/** Connects; sends the protocol header unless `header` is false. */
export function rawAmqpPeer(port: number, header = true): Promise<RawAmqpPeer> {
  return new Promise((resolve, reject) => {
    const reader = new amqp.FrameReader(1024 * 1024);
    const queue: (amqp.AmqpFrame | null)[] = [];
    const waiters: ((f: amqp.AmqpFrame | null) => void)[] = [];
    const push = (f: amqp.AmqpFrame | null) => {
      const w = waiters.shift();
      if (w) w(f);
      else queue.push(f);
    };
    const next = () =>
      queue.length > 0
        ? Promise.resolve(queue.shift() ?? null)
        : new Promise<amqp.AmqpFrame | null>((r) => waiters.push(r));
    let closedResolve: () => void = () => undefined;
    const closed = new Promise<void>((r) => {
      closedResolve = r;
    });
    const socket = connect(port, "127.0.0.1", () => {
      if (header) socket.write(amqp.PROTOCOL_HEADER);
      resolve({
        socket,
        next,
        async nextMethod() {
          for (let f = await next(); f !== null; f = await next()) if (f.type === "method") return f.method;
          return null;
        },
        send: (channel, method) => socket.write(amqp.encodeFrame({ type: "method", channel, method })),
        startPublish(channel, routingKey, bodySize) {
          socket.write(
            amqp.encodeFrame({
              type: "method",
              channel,
              method: amqp.createMethod("basic.publish", { exchange: "", routingKey }),
            }),
          );
          socket.write(
            amqp.encodeFrame({
              type: "header",
              channel,
              classId: amqp.BASIC_CLASS_ID,
              weight: 0,
              bodySize,
              properties: {},
            }),
          );
        },
        body: (channel, payload) => socket.write(amqp.encodeFrame({ type: "body", channel, payload })),
        closed,
      });
    });
    socket.on("data", (d: Buffer) => {
      try {
        for (const raw of reader.push(d)) push(amqp.decodeFrame(raw));
      } catch {
        socket.destroy();
      }
    });
    socket.on("close", () => {
      push(null);
      closedResolve();
    });
    socket.on("error", (err) => reject(err));
  });
}

/** Connects and completes start/tune/open as guest with the given frame_max; heartbeats off. */
export async function openRawAmqp(port: number, frameMax = 131_072): Promise<RawAmqpPeer> {
  const p = await rawAmqpPeer(port);
  const expect = async (name: string) => {
    const m = await p.nextMethod();
    if (m?.name !== name) throw new Error(`expected ${name}, got ${m?.name ?? "close"}`);
  };
  await expect("connection.start");
  p.send(
    0,
    amqp.createMethod("connection.start-ok", {
      clientProperties: { capabilities: { "connection.blocked": true } },
      mechanism: "PLAIN",
      response: Buffer.from("\0guest\0guest"),
    }),
  );
  await expect("connection.tune");
  p.send(0, amqp.createMethod("connection.tune-ok", { channelMax: 2047, frameMax, heartbeat: 0 }));
  p.send(0, amqp.createMethod("connection.open", { virtualHost: "/" }));
  await expect("connection.open-ok");
  return p;
}
