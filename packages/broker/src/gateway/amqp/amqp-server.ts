// The AMQP 0-9-1 listener: one Connection per accepted socket, all sharing the vhost and the publish gate.
// Invariant: a misbehaving connection ends itself; the server keeps accepting others.

import { createServer, type Server } from "node:net";
import { type ConnectionLimit, LIMITS } from "../../lib/index.ts";
import { BodyBudget } from "./body-budget.ts";
import { Connection, type ConnectionDeps } from "./connection.ts";

/** A refused client has this long from connect to finish its handshake and hear why (a normal one has
 *  10 s): the few refusal places must not stay taken by clients that send nothing. */
const REFUSAL_HANDSHAKE_MS = 2000;

export interface AmqpServerOptions {
  readonly bodies?: BodyBudget;
  /** the broker-wide connection limit; past it a client hears why at connection.open, as from RabbitMQ
   *  (a handful at a time: the rest are closed at once) */
  readonly limit?: ConnectionLimit;
}

export function createAmqpServer(deps: ConnectionDeps, opts: AmqpServerOptions = {}): Server {
  const budget =
    opts.bodies ?? new BodyBudget(LIMITS.amqpConnectionBodyBytesMax, LIMITS.amqpBodyBytesMax, deps.memory);
  const { limit } = opts;
  return createServer((socket) => {
    const admission = limit?.admit(socket, "amqp") ?? "accept";
    if (admission === "drop") {
      socket.destroy();
      return;
    }
    const refusal =
      admission === "refuse" ? `connection refused: node connection limit (${limit?.max}) is reached` : null;
    new Connection(socket, deps, budget, refusal);
    if (refusal !== null) {
      const deadline = deps.clock.setTimer(REFUSAL_HANDSHAKE_MS, () => socket.destroy());
      socket.once("close", () => deps.clock.clearTimer(deadline));
    }
  });
}
