// The kafka:// adapter's entry, loaded by the transport registry on first use (@platformatic/kafka with it).

import { loadPeer } from "../load-peer.ts";
import type { Transport, TransportContext } from "../transport.ts";
import { KafkaTransport } from "./kafka-transport.ts";

/** Partitions of the topics the SDK creates, unless the URL says `?partitions=N`. */
const DEFAULT_PARTITIONS = 4;

/** kafka://host:port[,host:port…][?partitions=N]: the bootstrap brokers. */
export async function createTransport(context: TransportContext): Promise<Transport> {
  const lib = await loadPeer("@platformatic/kafka", "kafka", () => import("@platformatic/kafka"));
  const brokers = context.url.host.split(",").filter((h) => h !== "");
  if (brokers.length === 0)
    throw new Error(`kafka:// needs bootstrap brokers: kafka://host:port, got ${context.url.href}`);
  const producer = new lib.Producer({
    clientId: `spindle-sdk-${process.pid}`,
    bootstrapBrokers: brokers,
    acks: -1,
    autocreateTopics: true,
    // a produce outlives a broker restart of a few seconds
    retries: 20,
    retryDelay: 250,
  });
  // connect now: a broker that cannot be reached is an error for connect(), not for the first publish
  await producer.metadata({ topics: [] });
  const partitions = Number(context.url.searchParams.get("partitions") ?? DEFAULT_PARTITIONS);
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new Error(
      `kafka:// partitions must be an integer ≥ 1, got ${context.url.searchParams.get("partitions")}`,
    );
  }
  return new KafkaTransport(lib, brokers, context.clock, producer, partitions);
}
