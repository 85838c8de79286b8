// Which transport serves which URL scheme. Each adapter is loaded by dynamic import on first use, so a
// memory:// user never loads amqplib, a Kafka or NATS client. Invariant: no adapter is imported statically.

import type { TransportFactory } from "./transport.ts";

type Loader = () => Promise<{ createTransport: TransportFactory }>;

const LOADERS: Record<string, Loader> = {
  memory: () => import("./memory/index.ts"),
  amqp: () => import("./amqp/index.ts"),
  amqps: () => import("./amqp/index.ts"),
  embedded: () => import("./embedded/index.ts"),
  nats: () => import("./nats/index.ts"),
  kafka: () => import("./kafka/index.ts"),
};

/** The factory for `url`'s scheme, or an error naming the schemes there are. */
export async function transportFor(url: URL): Promise<TransportFactory> {
  const scheme = url.protocol.replace(/:$/u, "");
  const load = LOADERS[scheme];
  if (load === undefined) {
    throw new Error(
      `unknown transport "${scheme}://" in ${url.href}: use one of ${Object.keys(LOADERS)
        .map((s) => `${s}://`)
        .join(", ")}`,
    );
  }
  return (await load()).createTransport;
}
