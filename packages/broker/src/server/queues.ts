// Opens the queue model (vhost "/" with its durable queues under <data-dir>/queues), the AMQP listener
// factory and the resource alarms that block AMQP publishers.
// Invariant: queues are closed (logs flushed) before storage, and after the AMQP listener stops; the alarms
// have been checked once before any AMQP connection is accepted.

import { readFileSync } from "node:fs";
import type { Server } from "node:net";
import { join } from "node:path";
import { AmqpConnections, amqpDeathCodec, createAmqpServer, PublishGate } from "../gateway/amqp/index.ts";
import type { ResourceReadings } from "../gateway/http/index.ts";
import { type ConnectionLimit, LIMITS, type Logger, type MemoryAccount, systemClock } from "../lib/index.ts";
import type { OpenFiles } from "../log/index.ts";
import { QueueStore, Vhost } from "../queues/index.ts";
import { watermarkBytes } from "./byte-size.ts";
import type { BrokerConfig } from "./config.ts";
import { availableMemoryBytes, ResourceAlarms, systemProbes } from "./resource-alarms.ts";
import type { Storage } from "./storage.ts";

export type Queues = {
  readonly vhost: Vhost;
  /** the open AMQP connections (the HTTP API lists and closes them) */
  readonly connections: AmqpConnections;
  /** the broker's package version */
  readonly version: string;
  /** the resource alarm raised now ("low on disk", …), or null */
  alarm(): string | null;
  /** the alarms' limits and last free-disk sample */
  resources(): ResourceReadings;
  createAmqpServer(): Server;
  /** Shutdown, before the listener closes: AMQP clients hear 320 CONNECTION_FORCED first. */
  closeConnections(): Promise<void>;
  close(): Promise<void>;
};

export async function openQueues(
  config: Pick<BrokerConfig, "fsync" | "diskFreeLimit" | "memoryHighWatermark">,
  storage: Storage,
  memory: MemoryAccount,
  logger: Logger,
  resources: { files: OpenFiles; connections: ConnectionLimit },
): Promise<Queues> {
  const version = packageVersion();
  const store = new QueueStore({
    fs: storage.fs,
    dir: join(storage.dataDir, "queues"),
    clock: systemClock,
    logger,
    fsync: config.fsync,
    memory,
    watch: storage.watch,
    files: resources.files,
  });
  const vhost = await Vhost.open(storage.meta, store, amqpDeathCodec, systemClock);
  const publishGate = new PublishGate();
  const alarms = new ResourceAlarms({
    diskFreeLimitBytes: config.diskFreeLimit,
    memoryHighWatermarkBytes: watermarkBytes(config.memoryHighWatermark, availableMemoryBytes()),
    memory,
    probes: systemProbes(storage.dataDir),
    logger,
    onChange: (reason) => publishGate.setBlocked(reason),
  });
  await alarms.check();
  alarms.start();
  storage.onWrite((bytes) => alarms.noteWritten(bytes));
  let closed: Promise<void> | undefined;
  const connections = new AmqpConnections();
  return {
    vhost,
    connections,
    version,
    alarm: () => alarms.reason,
    resources: () => alarms.readings,
    createAmqpServer: () =>
      createAmqpServer(
        {
          vhost,
          logger,
          clock: systemClock,
          version,
          messageBytesMax: LIMITS.amqpMessageBytesMax,
          publishGate,
          memory,
        },
        { limit: resources.connections, connections },
      ),
    closeConnections: () => connections.closeAll("shutdown"),
    close: () => {
      alarms.stop();
      closed ??= vhost.close();
      return closed;
    },
  };
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version?: unknown;
  };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}
