// The AMQP 0-9-1 listener: one Connection per accepted socket, all sharing the vhost and the publish gate.
// Invariant: a misbehaving connection ends itself; the server keeps accepting others.

import { createServer, type Server } from "node:net";
import { Connection, type ConnectionDeps } from "./connection.ts";
import type { PublishGate } from "./publish-gate.ts";

/** What every connection shares; `publishGate` is how resource alarms block publishers. */
export type AmqpServerDeps = ConnectionDeps & { readonly publishGate?: PublishGate };

export function createAmqpServer(deps: AmqpServerDeps): Server {
  return createServer((socket) => {
    new Connection(socket, deps);
  });
}
