// What one Kafka API handler declares: its codec, the versions it serves and the function that answers.
// Invariant: a handler is only called with a version inside its declared range.

import type { KafkaApiCodec, RequestHeader } from "@spindle/protocol";
import type { Clock, Logger } from "../../lib/index.ts";
import type { Groups, ProducerIds, StreamTraffic, Topics, Transactions } from "../../streams/index.ts";

/** Everything a handler may use: the stream domain and the identity this broker advertises. */
export interface KafkaBroker {
  readonly topics: Topics;
  readonly groups: Groups;
  readonly producerIds: ProducerIds;
  readonly transactions: Transactions;
  /** bytes produced and fetched, for /metrics and the console */
  readonly traffic: StreamTraffic;
  readonly clusterId: string;
  readonly nodeId: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface RequestContext {
  readonly broker: KafkaBroker;
  readonly header: RequestHeader;
  readonly version: number;
  /** the address the client reached us on: what Metadata advertises */
  readonly host: string;
  readonly port: number;
  /** the client's address, for DescribeGroups */
  readonly remoteHost: string;
  /** Produce: the throttle_time_ms to answer with (the connection is not read for that long) */
  readonly produceThrottleMs: number;
  /**
   * Calls `fn` once the response's bytes have been handed to the kernel (or the write failed): the buffers
   * it referred to may then be reused. Never called if the connection closes before the response is sent.
   */
  afterResponse(fn: () => void): void;
  /** calls `listener` when the connection closes (at once if it has); the result unregisters it */
  onClose(listener: () => void): () => void;
}

export interface KafkaHandler {
  readonly api: KafkaApiCodec;
  readonly minVersion: number;
  readonly maxVersion: number;
  /** null means no response is sent (Produce with acks=0) */
  handle(req: unknown, ctx: RequestContext): Promise<unknown>;
}

export function defineHandler<Req, Res>(
  api: KafkaApiCodec<Req, Res>,
  minVersion: number,
  maxVersion: number,
  handle: (req: Req, ctx: RequestContext) => Promise<Res | null> | Res | null,
): KafkaHandler {
  if (minVersion < api.minVersion || maxVersion > api.maxVersion) {
    throw new Error(`${api.name}: versions ${minVersion}-${maxVersion} outside the codec's`);
  }
  return {
    api: api as KafkaApiCodec,
    minVersion,
    maxVersion,
    handle: async (req, ctx) => handle(req as Req, ctx),
  };
}
