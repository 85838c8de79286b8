// Test support: the queue model and AMQP listener on 127.0.0.1:0 over a real data directory.
// Invariant: close() destroys every socket and closes logs, so the same directory can be reopened; the
// temp directories made here are removed when the test process exits.

import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { type Clock, LIMITS, nodeFs, silentLogger, systemClock } from "../../lib/index.ts";
import { MetaStore } from "../../meta/index.ts";
import { QueueStore, Vhost } from "../../queues/index.ts";
import { tempDir } from "../../testing/index.ts";
import { createAmqpServer } from "./amqp-server.ts";
import type { ConnectionDeps } from "./connection.ts";
import { amqpDeathCodec } from "./death-codec.ts";

export interface TestBroker {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly vhost: Vhost;
  close(): Promise<void>;
}

/** Deps a test may set: deadlines, the publish gate, the memory account. */
export type TestBrokerOptions = Partial<Pick<ConnectionDeps, "handshakeMs" | "publishGate" | "memory">>;

/** `clock` runs the queues' and connections' time: a FakeClock puts TTL, x-expires, x-delay and
 *  heartbeats on fake time (the sockets stay real). */
export async function startTestBroker(
  dir = tempDir("amqp"),
  clock: Clock = systemClock,
  opts: TestBrokerOptions = {},
): Promise<TestBroker> {
  const fsync = { mode: "group" } as const;
  const meta = await MetaStore.open({
    fs: nodeFs,
    dir: join(dir, "meta"),
    clock,
    logger: silentLogger,
    fsync,
  });
  const store = new QueueStore({
    fs: nodeFs,
    dir: join(dir, "queues"),
    clock,
    logger: silentLogger,
    fsync,
    ...(opts.memory === undefined ? {} : { memory: opts.memory }),
  });
  const vhost = await Vhost.open(meta, store, amqpDeathCodec, clock);
  const server = createAmqpServer({
    vhost,
    logger: silentLogger,
    clock,
    version: "test",
    messageBytesMax: LIMITS.amqpMessageBytesMax,
    ...opts,
  });
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    dir,
    vhost,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await vhost.close();
      await meta.close();
    },
  };
}
