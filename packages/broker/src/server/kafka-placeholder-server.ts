// Stand-in for the Kafka server until the protocol lands: binds the port and closes every connection.
// Invariant: the port is held (nothing else can take it) while no Kafka request is ever half-answered.

import { createServer, type Server } from "node:net";

export function createKafkaPlaceholderServer(): Server {
  return createServer((socket) => {
    socket.on("error", () => socket.destroy());
    socket.end();
  });
}
