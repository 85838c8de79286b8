// The AMQP 0-9-1 listener: one Connection per accepted socket, all sharing the vhost and the publish gate.
// Invariant: a misbehaving connection ends itself; the server keeps accepting others. At shutdown every
// client hears connection.close 320 CONNECTION_FORCED before its socket goes, as RabbitMQ's do.

import { createServer, type Server, type Socket } from "node:net";
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
  /** where shutdown finds the open connections (see AmqpConnections) */
  readonly connections?: AmqpConnections;
}

/** how long shutdown waits for clients to answer connection.close with close-ok */
const SHUTDOWN_CLOSE_WAIT_MS = 1000;

/** The open connections of the AMQP listeners, so that shutdown can tell each client why it ends. */
export class AmqpConnections {
  private readonly open = new Map<Socket, Connection>();
  closing = false;

  add(socket: Socket, c: Connection): void {
    this.open.set(socket, c);
    socket.once("close", () => this.open.delete(socket));
  }

  /** The open connections, in the order they were accepted. */
  list(): Connection[] {
    return [...this.open.values()];
  }

  /** The connection of that RabbitMQ-style name, if open. */
  find(name: string): Connection | undefined {
    for (const c of this.open.values()) if (c.name === name) return c;
    return undefined;
  }

  /** Tells every connection the broker closes it (320 CONNECTION_FORCED, RabbitMQ's text) and resolves once
   *  their sockets closed, or after SHUTDOWN_CLOSE_WAIT_MS; connections accepted later are closed at once. */
  async closeAll(reason: string): Promise<void> {
    this.closing = true;
    const gone = [...this.open.keys()].map(
      (s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once("close", () => resolve()))),
    );
    for (const c of this.open.values()) c.forceClose(reason);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_CLOSE_WAIT_MS);
    });
    await Promise.race([Promise.all(gone), deadline]);
    clearTimeout(timer);
  }
}

export function createAmqpServer(deps: ConnectionDeps, opts: AmqpServerOptions = {}): Server {
  const budget =
    opts.bodies ?? new BodyBudget(LIMITS.amqpConnectionBodyBytesMax, LIMITS.amqpBodyBytesMax, deps.memory);
  const { limit, connections } = opts;
  return createServer((socket) => {
    if (connections?.closing === true) {
      socket.destroy();
      return;
    }
    const admission = limit?.admit(socket, "amqp") ?? "accept";
    if (admission === "drop") {
      socket.destroy();
      return;
    }
    const refusal =
      admission === "refuse" ? `connection refused: node connection limit (${limit?.max}) is reached` : null;
    const c = new Connection(socket, deps, budget, refusal);
    connections?.add(socket, c);
    if (refusal !== null) {
      const deadline = deps.clock.setTimer(REFUSAL_HANDSHAKE_MS, () => socket.destroy());
      socket.once("close", () => deps.clock.clearTimer(deadline));
    }
  });
}
