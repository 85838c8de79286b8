// bench:kafka's client ceiling for consume: an in-memory Kafka "replay" server that serves one partition's
// record batches from memory (built as the producer batched them) to a kcat consumer — no disk reads, no CRC
// checks, no per-record work, so what kcat reaches from it is the most it reads over loopback. Bench only.
// Invariant: a Fetch gets whole batches from the one holding the fetch offset up to the partition's max bytes
// (at least one batch), as Spindle's fetch answers; it speaks only what `kcat -C -o beginning -e` needs
// (ApiVersions, Metadata, ListOffsets, Fetch), and a request for anything else closes the connection.

import { createServer, type Socket } from "node:net";
import {
  ApiKey,
  decodeRequestHeader,
  type FetchRequest,
  getKafkaApi,
  KafkaErrorCode,
  KafkaReader,
  KafkaWriter,
  type ListOffsetsRequest,
  type ListOffsetsResponseListOffsetsPartitionResponse,
  type MetadataRequest,
  type RequestHeader,
  responseHeaderVersion,
  writeResponseHeader,
} from "@spindle/protocol";
import { type Partition, recordsFrom } from "./kafka-replay-partition.ts";

const NODE_ID = 1;
const TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ";
const LATEST = -1n;
const EARLIEST = -2n;
/** what is served, in the ranges Spindle serves, so kcat picks the same versions as against Spindle */
const VERSIONS: Record<number, [number, number]> = {
  [ApiKey.Fetch]: [4, 13],
  [ApiKey.ListOffsets]: [1, 7],
  [ApiKey.Metadata]: [0, 12],
  [ApiKey.ApiVersions]: [0, 4],
};
/** advertised, never served: without Produce v3+ librdkafka lacks its message-format-v2 feature and never fetches */
const ADVERTISED_ONLY: Record<number, [number, number]> = { [ApiKey.Produce]: [3, 9] };

export interface ReplayServer {
  readonly address: string;
  close(): Promise<void>;
}

/** Serves `p` on 127.0.0.1 (a free port) until closed. */
export async function startReplay(p: Partition): Promise<ReplayServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.setNoDelay(true);
    serve(socket, p);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** One connection: frames in, answered one at a time in order (as a Kafka broker mutes the channel). */
function serve(socket: Socket, p: Partition): void {
  let pending: Buffer[] = [];
  let buffered = 0;
  let queue = Promise.resolve();
  socket.on("error", () => socket.destroy());
  socket.on("data", (chunk: Buffer) => {
    pending.push(chunk);
    buffered += chunk.length;
    while (buffered >= 4) {
      const head = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, buffered);
      const size = head.readInt32BE(0);
      if (buffered < 4 + size) {
        pending = [head];
        break;
      }
      const frame = head.subarray(4, 4 + size);
      const rest = head.subarray(4 + size);
      pending = rest.length > 0 ? [rest] : [];
      buffered = rest.length;
      queue = queue.then(() => answer(socket, p, frame));
    }
  });
}

async function answer(socket: Socket, p: Partition, frame: Buffer): Promise<void> {
  if (socket.destroyed) return;
  const r = new KafkaReader(frame);
  const header = decodeRequestHeader(r);
  const { apiKey, apiVersion } = header;
  const range = VERSIONS[apiKey];
  const api = getKafkaApi(apiKey);
  if (range === undefined || api === undefined || apiVersion < range[0] || apiVersion > range[1]) {
    console.error(`replay server: api ${apiKey} v${apiVersion} is not served; closing`);
    socket.destroy();
    return;
  }
  const req = api.decodeRequest(apiVersion, r);
  let body: unknown;
  if (apiKey === ApiKey.ApiVersions) body = apiVersions();
  else if (apiKey === ApiKey.Metadata) body = metadata(req as MetadataRequest, socket, p);
  else if (apiKey === ApiKey.ListOffsets) body = listOffsets(req as ListOffsetsRequest, p);
  else body = await fetch(req as FetchRequest, apiVersion, p);
  write(socket, header, api.writeResponse.bind(api), body);
}

function apiVersions(): unknown {
  return {
    errorCode: KafkaErrorCode.NONE,
    throttleTimeMs: 0,
    apiKeys: Object.entries({ ...VERSIONS, ...ADVERTISED_ONLY }).map(([k, [min, max]]) => ({
      apiKey: Number(k),
      minVersion: min,
      maxVersion: max,
    })),
  };
}

/** Whole batches from each fetch offset; at the end, an empty answer after max_wait_ms, as a broker's. */
async function fetch(req: FetchRequest, version: number, p: Partition): Promise<unknown> {
  const asked = req.topics.flatMap((t) => t.partitions);
  // kcat's -e stops on this empty answer
  if (asked.every((q) => Number(q.fetchOffset) >= p.endOffset)) {
    await new Promise((r) => setTimeout(r, Math.min(req.maxWaitMs, 1000)));
  }
  let room = req.maxBytes ?? 0x7fffffff;
  return {
    throttleTimeMs: 0,
    errorCode: KafkaErrorCode.NONE,
    sessionId: 0,
    responses: req.topics.map((t) => ({
      ...(version >= 13 ? { topicId: t.topicId } : { topic: t.topic }),
      partitions: t.partitions.map((q) => {
        const offset = Number(q.fetchOffset);
        const known = q.partition === 0 && (version >= 13 ? t.topicId === TOPIC_ID : t.topic === p.topic);
        const errorCode = !known
          ? KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          : offset < 0 || offset > p.endOffset
            ? KafkaErrorCode.OFFSET_OUT_OF_RANGE
            : KafkaErrorCode.NONE;
        const records =
          errorCode === KafkaErrorCode.NONE && offset < p.endOffset && room > 0
            ? recordsFrom(p, offset, Math.min(q.partitionMaxBytes, room))
            : Buffer.alloc(0);
        room -= records.length;
        return {
          partitionIndex: q.partition,
          errorCode,
          highWatermark: BigInt(p.endOffset),
          lastStableOffset: BigInt(p.endOffset),
          logStartOffset: 0n,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records,
        };
      }),
    })),
  };
}

function metadata(req: MetadataRequest, socket: Socket, p: Partition): unknown {
  const names = req.topics === null || req.topics.length === 0 ? [p.topic] : req.topics.map((t) => t.name);
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: NODE_ID, host: "127.0.0.1", port: socket.localPort ?? 0, rack: null }],
    clusterId: "replay",
    controllerId: NODE_ID,
    topics: names.map((name) =>
      name === p.topic
        ? {
            errorCode: KafkaErrorCode.NONE,
            name,
            topicId: TOPIC_ID,
            isInternal: false,
            partitions: [
              {
                errorCode: KafkaErrorCode.NONE,
                partitionIndex: 0,
                leaderId: NODE_ID,
                leaderEpoch: 0,
                replicaNodes: [NODE_ID],
                isrNodes: [NODE_ID],
                offlineReplicas: [],
              },
            ],
            topicAuthorizedOperations: -2147483648,
          }
        : { errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, isInternal: false, partitions: [] },
    ),
    clusterAuthorizedOperations: -2147483648,
  };
}

function listOffsets(req: ListOffsetsRequest, p: Partition): unknown {
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((q): ListOffsetsResponseListOffsetsPartitionResponse => {
        const ok = t.name === p.topic && q.partitionIndex === 0;
        const offset = q.timestamp === EARLIEST ? 0 : q.timestamp === LATEST ? p.endOffset : -1;
        return {
          partitionIndex: q.partitionIndex,
          errorCode: !ok
            ? KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            : offset < 0
              ? KafkaErrorCode.INVALID_REQUEST
              : KafkaErrorCode.NONE,
          timestamp: -1n,
          offset: BigInt(offset),
          leaderEpoch: 0,
        };
      }),
    })),
  };
}

/** Writes one response: the record batches go by reference (the writer keeps large blobs as parts). */
function write(
  socket: Socket,
  header: RequestHeader,
  writeBody: (w: KafkaWriter, version: number, msg: unknown) => void,
  body: unknown,
): void {
  const w = new KafkaWriter(256);
  w.int32(0);
  writeResponseHeader(w, responseHeaderVersion(header.apiKey, header.apiVersion) ?? 0, {
    correlationId: header.correlationId,
  });
  writeBody(w, header.apiVersion, body);
  const parts = w.finishParts();
  (parts[0] as Buffer).writeInt32BE(w.length - 4, 0);
  socket.cork();
  for (const part of parts) socket.write(part);
  socket.uncork();
}
