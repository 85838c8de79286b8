// The nats:// adapter's entry, loaded by the transport registry on first use (the NATS clients with it).

import { loadPeer } from "../load-peer.ts";
import type { Transport, TransportContext } from "../transport.ts";
import { NatsTransport } from "./nats-transport.ts";

/** nats://[user:pass@]host:port[,host:port…]: reconnects forever (NATS's own client), resubscribing. */
export async function createTransport(context: TransportContext): Promise<Transport> {
  const nats = await loadPeer("@nats-io/transport-node", "nats", () => import("@nats-io/transport-node"));
  const js = await loadPeer("@nats-io/jetstream", "nats", () => import("@nats-io/jetstream"));
  const { url } = context;
  const servers = url.host.split(",").map((h) => h || "127.0.0.1:4222");
  const nc = await nats.connect({
    servers,
    ...(url.username === ""
      ? {}
      : { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }),
    name: `spindle-sdk ${process.pid}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  return new NatsTransport(nc, js.jetstream(nc), await js.jetstreamManager(nc), { js, nats }, context.clock);
}
