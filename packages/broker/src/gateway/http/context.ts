// What the HTTP API reads and operates: the queue model, the stream model, the open AMQP connections,
// alarms and counters. server/ builds it once the listeners are bound; the resource modules take it.
// Invariant: resource modules reach the broker only through this context (no imports of server/).

import type { Clock, Logger, MemoryAccount } from "../../lib/index.ts";
import type { CleanerStats, DamageCounts, SyncLatency } from "../../log/index.ts";
import type { Vhost } from "../../queues/index.ts";
import type { AmqpConnections } from "../amqp/index.ts";
import type { KafkaBroker } from "../kafka/index.ts";

export type ListenerName = "amqp" | "kafka" | "http";

/** What the resource alarms are judged against (RabbitMQ's node figures in /metrics). */
export interface ResourceReadings {
  /** the memory high watermark, in bytes */
  readonly memoryLimitBytes: number;
  /** `--disk-free-limit` */
  readonly diskFreeLimitBytes: number;
  /** free space on the data dir's filesystem at the last sample (every second); null when unknown */
  readonly diskFreeBytes: number | null;
}

export interface HttpContext {
  /** the queue model: exchanges, queues, bindings, and the broker-wide message counters (`vhost.stats`) */
  readonly vhost: Vhost;
  /** the stream model: topics, groups, producer ids, byte counters (`streams.traffic`) */
  readonly streams: KafkaBroker;
  /** open AMQP connections (listed and closed by the API) */
  readonly amqp: AmqpConnections;
  /** the resource alarm raised now ("low on disk", …), or null */
  alarm(): string | null;
  resources(): ResourceReadings;
  /** the open-file limit the broker runs under (`ulimit -n`) */
  readonly fdLimit: number;
  readonly memory: MemoryAccount;
  /** damage found on disk, summed over every log (counters only grow) */
  readonly damage: Readonly<DamageCounts>;
  /** how long the logs' syncs to disk take */
  readonly syncLatency: SyncLatency;
  /** the log cleaner's last check and cleaning */
  readonly cleaner: Readonly<CleanerStats>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** the broker's package version */
  readonly version: string;
  readonly dataDir: string;
  /** bound `host:port` of each listener */
  readonly addresses: Readonly<Record<ListenerName, string>>;
  /** the process start, ms since the epoch (for uptime) */
  readonly startedMs: number;
  /** the built web console (index.html, assets/), served at `/`; absent or not built: `/` says to build it */
  readonly consoleDir?: string;
}
