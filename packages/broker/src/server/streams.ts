// Opens the stream domain (topics; later groups, offsets, producer ids) under the locked data dir.
// Invariant: everything opened here is closed by the returned close(), after the Kafka listener stops.

import { createHash } from "node:crypto";
import type { KafkaBroker } from "../gateway/kafka/index.ts";
import { type Logger, systemClock } from "../lib/index.ts";
import { type CleanerStats, LogCleaner, type OpenFiles } from "../log/index.ts";
import {
  DEFAULT_GROUP_TIMINGS,
  Groups,
  groupsDir,
  ProducerIds,
  StreamTraffic,
  Topics,
  Transactions,
  TxnStore,
  transactionsDir,
} from "../streams/index.ts";
import type { BrokerConfig } from "./config.ts";
import type { Storage } from "./storage.ts";

const RETENTION_CHECK_MS = 60_000;

export interface Streams {
  readonly kafka: KafkaBroker;
  /** the log cleaner's figures, for /metrics */
  readonly cleaner: CleanerStats;
  close(): Promise<void>;
}

/** A stable cluster id per data directory (22 chars of base64url, like Kafka's). */
function clusterIdFor(dataDir: string): string {
  return createHash("sha256").update(dataDir).digest("base64url").slice(0, 22);
}

export async function openStreams(
  config: BrokerConfig,
  storage: Storage,
  logger: Logger,
  files: OpenFiles,
): Promise<Streams> {
  const cleaner = new LogCleaner({
    clock: systemClock,
    logger,
    bufferBytes: config.logCleanerDedupeBufferSize,
    backoffMs: config.logCleanerBackoffMs,
  });
  const topics = await Topics.open({
    fs: storage.fs,
    dataDir: storage.dataDir,
    meta: storage.meta,
    clock: systemClock,
    logger,
    fsync: config.fsync,
    autoCreate: config.autoCreateTopics,
    defaultPartitions: config.defaultPartitions,
    retentionCheckMs: RETENTION_CHECK_MS,
    watch: storage.watch,
    files,
    cleaner,
  });
  let groups: Groups;
  try {
    groups = await Groups.open({
      fs: storage.fs,
      dir: groupsDir(storage.dataDir),
      clock: systemClock,
      logger,
      fsync: config.fsync,
      timings: DEFAULT_GROUP_TIMINGS,
      watch: { damageStats: storage.watch.damageStats, syncLatency: storage.watch.syncLatency },
    });
  } catch (e) {
    await cleaner.close();
    await topics.close();
    throw e;
  }
  const producerIds = new ProducerIds(storage.meta);
  let transactions: Transactions;
  try {
    const store = await TxnStore.open({
      fs: storage.fs,
      dir: transactionsDir(storage.dataDir),
      clock: systemClock,
      logger,
      fsync: config.fsync,
      watch: { damageStats: storage.watch.damageStats, syncLatency: storage.watch.syncLatency },
    });
    // finishes transactions that were preparing at the last stop and aborts open ones
    transactions = await Transactions.open({
      store,
      topics,
      groups,
      producerIds,
      clock: systemClock,
      logger,
    });
  } catch (e) {
    await groups.close();
    await cleaner.close();
    await topics.close();
    throw e;
  }
  // The cleaner starts only now: it must know every aborted transaction and open one before it cleans.
  const txns = transactions;
  topics.transactionView = (topicId, partition) => ({
    lastStableOffset: (highWatermark) => txns.lastStableOffset(topicId, partition, highWatermark),
    abortedIn: (from, to) => txns.abortedIn(topicId, partition, from, to),
  });
  if (config.logCleanerEnable) cleaner.start();
  const kafka: KafkaBroker = {
    topics,
    groups,
    producerIds,
    transactions,
    traffic: new StreamTraffic(),
    clusterId: clusterIdFor(storage.dataDir),
    nodeId: 0,
    clock: systemClock,
    logger,
  };
  const close = async () => {
    await transactions.close();
    await groups.close();
    await cleaner.close();
    await topics.close();
  };
  return { kafka, cleaner: cleaner.stats, close };
}
