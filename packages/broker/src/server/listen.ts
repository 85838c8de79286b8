// Binding a server to host:port, and closing it with every connection it accepted.
// Invariant: a bind failure becomes one sentence naming the address and the flag that changes it.

import type { AddressInfo, Server, Socket } from "node:net";
import { BrokerError } from "../lib/index.ts";

export type ListenOptions = {
  readonly host: string;
  readonly port: number;
  /** The flag that changes this port, e.g. `--amqp-port`; named in the error. */
  readonly flag: string;
};

export type Listener = {
  readonly address: AddressInfo;
  /** Stops accepting, destroys open connections, resolves once the server is closed. Idempotent. */
  close(): Promise<void>;
};

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: "address in use",
  EACCES: "permission denied",
  EADDRNOTAVAIL: "address not available on this machine",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
};

function bindError(e: NodeJS.ErrnoException, opts: ListenOptions): BrokerError {
  const code = e.code ?? "error";
  const reason = REASONS[code] ?? `${code}: ${e.message}`;
  const hostProblem = code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN";
  const remedy = hostProblem ? "choose another host with --host" : `choose another port with ${opts.flag}`;
  return new BrokerError(
    "INVALID_CONFIG",
    `cannot listen on ${formatHostPort(opts.host, opts.port)} (${reason}); ${remedy}`,
    { host: opts.host, port: opts.port, flag: opts.flag, errno: code },
  );
}

/** `host:port`, with IPv6 addresses in brackets so the port stays unambiguous. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Binds `server`; resolves once it accepts connections, or rejects with a one-line BrokerError. */
export function listen(server: Server, opts: ListenOptions): Promise<Listener> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => reject(bindError(e, opts));
    server.once("error", onError);
    server.listen({ host: opts.host, port: opts.port, exclusive: true }, () => {
      server.off("error", onError);
      resolve({ address: server.address() as AddressInfo, close: closer(server, sockets) });
    });
  });
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  let closed: Promise<void> | undefined;
  return () => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closed;
  };
}
