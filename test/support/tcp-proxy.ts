// A loopback TCP proxy a test puts between a client and a server it may not restart (NATS, RabbitMQ):
// cut() drops every connection through it at once, as a network failure or a server restart would.
// Invariant: the proxy listens on 127.0.0.1 only and close() leaves no socket open.

import { createServer, type Socket, connect as tcpConnect } from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Destroys every proxied connection; new ones are accepted. */
  cut(): void;
  close(): Promise<void>;
}

export async function tcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        open.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const cut = () => {
    for (const s of open) s.destroy();
  };
  return {
    port,
    cut,
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
