// The AMQP 0-9-1 listener: one Connection per accepted socket, all sharing the vhost and the publish gate.
// Invariant: a misbehaving connection ends itself; the server keeps accepting others.

import { createServer, type Server } from "node:net";
import { Connection, type ConnectionDeps } from "./connection.ts";

export function createAmqpServer(deps: ConnectionDeps): Server {
  return createServer((socket) => {
    new Connection(socket, deps);
  });
}
