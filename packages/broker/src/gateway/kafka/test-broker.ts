// Test support: the stream domain and a Kafka listener on 127.0.0.1:0 over a real temp data directory, with
// the listener's options (limits, deadlines) given by the test. Invariant: close() destroys every socket
// and closes the logs; the temp directories made here are removed when the test process exits.

import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { nodeFs, silentLogger, systemClock } from "../../lib/index.ts";
import { MetaStore } from "../../meta/index.ts";
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
} from "../../streams/index.ts";
import { tempDir } from "../../testing/index.ts";
import { createKafkaServer, type KafkaServerOptions } from "./server.ts";

export interface TestKafka {
  readonly port: number;
  /** host:port */
  readonly address: string;
  close(): Promise<void>;
}

export async function startTestKafka(
  opts: KafkaServerOptions & { txnAbortCheckMs?: number } = {},
): Promise<TestKafka> {
  const dataDir = tempDir("kafka");
  const common = { fs: nodeFs, clock: systemClock, logger: silentLogger, fsync: { mode: "group" } as const };
  const meta = await MetaStore.open({ ...common, dir: join(dataDir, "meta") });
  const topics = await Topics.open({
    ...common,
    dataDir,
    meta,
    autoCreate: true,
    defaultPartitions: 1,
    retentionCheckMs: 60_000,
  });
  const groups = await Groups.open({ ...common, dir: groupsDir(dataDir), timings: DEFAULT_GROUP_TIMINGS });
  const producerIds = new ProducerIds(meta);
  const store = await TxnStore.open({ ...common, dir: transactionsDir(dataDir) });
  const transactions = await Transactions.open({
    store,
    topics,
    groups,
    producerIds,
    clock: systemClock,
    logger: silentLogger,
    ...(opts.txnAbortCheckMs !== undefined ? { abortCheckMs: opts.txnAbortCheckMs } : {}),
  });
  const broker = {
    topics,
    groups,
    producerIds,
    transactions,
    traffic: new StreamTraffic(),
    clusterId: "test-cluster",
    nodeId: 0,
    clock: systemClock,
    logger: silentLogger,
  };
  const server = createKafkaServer(broker, opts);
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await transactions.close();
      await groups.close();
      await topics.close();
      await meta.close();
    },
  };
}
