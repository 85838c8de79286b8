// Stand-in for the AMQP 0-9-1 server until the protocol lands: binds the port and refuses every client.
// Invariant: a client gets the spec's answer to a header it cannot use (our header, then close), never a hang.

import { createServer, type Server } from "node:net";

/** The AMQP 0-9-1 protocol header; sent back to say which version this server would speak. */
export const AMQP_PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0x00, 0x00, 0x09, 0x01]);

const IDLE_TIMEOUT_MS = 10_000;

export function createAmqpPlaceholderServer(): Server {
  return createServer((socket) => {
    socket.on("error", () => socket.destroy());
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    socket.once("data", () => socket.end(AMQP_PROTOCOL_HEADER));
  });
}
