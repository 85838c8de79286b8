// The AMQP 0-9-1 listener: one Connection per accepted socket, all sharing the vhost and the publish gate.
// Invariant: a misbehaving connection ends itself; the server keeps accepting others.

import { createServer, type Server } from "node:net";
import { LIMITS } from "../../lib/index.ts";
import { BodyBudget } from "./body-budget.ts";
import { Connection, type ConnectionDeps } from "./connection.ts";

export function createAmqpServer(deps: ConnectionDeps, bodies?: BodyBudget): Server {
  const budget =
    bodies ?? new BodyBudget(LIMITS.amqpConnectionBodyBytesMax, LIMITS.amqpBodyBytesMax, deps.memory);
  return createServer((socket) => {
    new Connection(socket, deps, budget);
  });
}
