// Opens the queue model (vhost "/" with its durable queues under <data-dir>/queues) and the AMQP listener factory.
// Invariant: queues are closed (logs flushed) before storage, and after the AMQP listener stops.

import { readFileSync } from "node:fs";
import type { Server } from "node:net";
import { join } from "node:path";
import { amqpDeathCodec, createAmqpServer } from "../gateway/amqp/index.ts";
import { LIMITS, type Logger, nodeFs, systemClock } from "../lib/index.ts";
import { QueueStore, Vhost } from "../queues/index.ts";
import type { BrokerConfig } from "./config.ts";
import type { Storage } from "./storage.ts";

export type Queues = {
  readonly vhost: Vhost;
  createAmqpServer(): Server;
  close(): Promise<void>;
};

export async function openQueues(
  config: Pick<BrokerConfig, "fsync">,
  storage: Storage,
  logger: Logger,
): Promise<Queues> {
  const version = packageVersion();
  const store = new QueueStore({
    fs: nodeFs,
    dir: join(storage.dataDir, "queues"),
    clock: systemClock,
    logger,
    fsync: config.fsync,
  });
  const vhost = await Vhost.open(storage.meta, store, amqpDeathCodec, systemClock);
  let closed: Promise<void> | undefined;
  return {
    vhost,
    createAmqpServer: () =>
      createAmqpServer({ vhost, logger, version, messageBytesMax: LIMITS.amqpMessageBytesMax }),
    close: () => (closed ??= vhost.close()),
  };
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version?: unknown;
  };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}
