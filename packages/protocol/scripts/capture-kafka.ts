// Records the request frames that real Kafka clients (kafkajs, librdkafka via kcat) send, as golden fixtures.
// Invariant: a fixture is the exact frame a client sent (header + body, without the 4-byte size), unmodified.
//
// Usage: node --import tsx packages/protocol/scripts/capture-kafka.ts [kafkajs] [kcat]
// A raw TCP listener on a free loopback port answers just enough (ApiVersions, Metadata, Produce, group
// APIs, Fetch) for each client to go on; responses are built with the generated codecs.

import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  decodeRequestHeader,
  responseHeaderVersion,
  writeResponseHeader,
} from "../src/kafka/codec/headers.ts";
import { KafkaReader } from "../src/kafka/codec/reader.ts";
import { KafkaWriter } from "../src/kafka/codec/writer.ts";
import { getKafkaApi, kafkaApiList } from "../src/kafka/generated/index.ts";
import { fillStruct, messageDef } from "./kafka-schema-values.ts";

const fixturesDir = fileURLToPath(new URL("../src/kafka/fixtures/", import.meta.url));
const TOPIC = "spindle-capture";
const GROUP = "spindle-capture-group";

type Obj = Record<string, unknown>;
type Handler = (req: Obj, version: number, port: number) => Obj;

const nameOf = (apiKey: number): string => getKafkaApi(apiKey)?.name ?? `api${apiKey}`;

const partitionsOf = (topics: unknown, key: string): { name: string; parts: number[] }[] =>
  ((topics as Obj[] | null) ?? []).map((t) => ({
    name: String(t.name ?? t.topic ?? TOPIC),
    parts: ((t[key] as Obj[] | number[] | undefined) ?? []).map((p) =>
      typeof p === "number" ? p : Number(p.partition ?? p.partitionIndex ?? p.index ?? 0),
    ),
  }));

const handlers: Record<number, Handler> = {
  18: () => ({
    errorCode: 0,
    apiKeys: kafkaApiList
      .filter((a) => a.listeners.includes("broker"))
      .map((a) => ({ apiKey: a.apiKey, minVersion: a.minVersion, maxVersion: a.maxVersion })),
  }),
  3: (req, _v, port) => {
    const asked = (req.topics as Obj[] | null) ?? [];
    const names = asked.length > 0 ? asked.map((t) => String(t.name ?? TOPIC)) : [TOPIC];
    return {
      brokers: [{ nodeId: 0, host: "127.0.0.1", port, rack: null }],
      clusterId: "spindle-capture",
      controllerId: 0,
      topics: names.map((name) => ({
        name,
        partitions: [{ partitionIndex: 0, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0] }],
      })),
    };
  },
  0: (req) => ({
    responses: partitionsOf(req.topicData, "partitionData").map((t) => ({
      name: t.name,
      partitionResponses: t.parts.map((index) => ({ index, baseOffset: 0n, logAppendTimeMs: -1n })),
    })),
  }),
  10: (req, _v, port) => ({
    nodeId: 0,
    host: "127.0.0.1",
    port,
    coordinators: ((req.coordinatorKeys as string[] | undefined) ?? [GROUP]).map((key) => ({
      key,
      nodeId: 0,
      host: "127.0.0.1",
      port,
    })),
  }),
  11: (req) => {
    const first = ((req.protocols as Obj[]) ?? [])[0] ?? {};
    return {
      generationId: 1,
      protocolType: req.protocolType,
      protocolName: first.name,
      leader: "member-1",
      memberId: "member-1",
      members: [{ memberId: "member-1", groupInstanceId: null, metadata: first.metadata }],
    };
  },
  14: (req) => {
    const mine = ((req.assignments as Obj[]) ?? []).find((a) => a.memberId === req.memberId);
    return {
      protocolType: req.protocolType ?? null,
      protocolName: req.protocolName ?? null,
      assignment: mine?.assignment ?? Buffer.alloc(0),
    };
  },
  12: () => ({}),
  13: () => ({}),
  9: (req) => ({
    topics: partitionsOf(req.topics, "partitionIndexes").map((t) => ({
      name: t.name,
      partitions: t.parts.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, metadata: "" })),
    })),
    groups: ((req.groups as Obj[] | undefined) ?? []).map((g) => ({
      groupId: g.groupId,
      topics: partitionsOf(g.topics, "partitionIndexes").map((t) => ({
        name: t.name,
        partitions: t.parts.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, metadata: "" })),
      })),
    })),
  }),
  2: (req) => ({
    topics: partitionsOf(req.topics, "partitions").map((t) => ({
      name: t.name,
      partitions: t.parts.map((partitionIndex) => ({
        partitionIndex,
        timestamp: -1n,
        offset: 0n,
        oldStyleOffsets: [0n],
      })),
    })),
  }),
  1: (req) => ({
    responses: ((req.topics as Obj[]) ?? []).map((t) => ({
      topic: t.topic,
      topicId: t.topicId,
      partitions: ((t.partitions as Obj[]) ?? []).map((p) => ({
        partitionIndex: p.partition,
        highWatermark: 0n,
        records: Buffer.alloc(0),
      })),
    })),
  }),
  8: (req) => ({
    topics: ((req.topics as Obj[]) ?? []).map((t) => ({
      name: t.name,
      partitions: ((t.partitions as Obj[]) ?? []).map((p) => ({ partitionIndex: p.partitionIndex })),
    })),
  }),
  22: () => ({ producerId: 1000n, producerEpoch: 0 }),
};

interface Capture {
  client: string;
  seen: Set<string>;
  wanted: Set<number>;
  onAllSeen: () => void;
}

function respond(sock: Socket, frame: Buffer, cap: Capture, port: number): void {
  const r = new KafkaReader(frame);
  const header = decodeRequestHeader(r);
  const api = getKafkaApi(header.apiKey);
  const v = header.apiVersion;
  const label = `${nameOf(header.apiKey)}-v${v}`;
  if (!cap.seen.has(label)) {
    cap.seen.add(label);
    writeFileSync(join(fixturesDir, `${cap.client}-${label}.bin`), frame);
    console.log(`captured ${cap.client} ${label} (${frame.length} bytes)`);
  }
  cap.wanted.delete(header.apiKey);
  if (cap.wanted.size === 0) cap.onAllSeen();
  const handler = handlers[header.apiKey];
  if (api === undefined || handler === undefined) {
    console.log(`no answer for ${label}`);
    return;
  }
  const req = api.decodeRequest(v, r) as Obj;
  const res = fillStruct(messageDef(`${api.name}Response`).root, v, handler(req, v, port));
  const w = new KafkaWriter();
  w.int32(0);
  writeResponseHeader(w, responseHeaderVersion(header.apiKey, v)!, { correlationId: header.correlationId });
  api.writeResponse(w, v, res);
  const out = w.finish();
  out.writeInt32BE(out.length - 4, 0);
  if (header.apiKey === 0 && req.acks === 0) return;
  sock.write(out);
}

async function withServer(cap: Capture, run: (port: number) => Promise<void>): Promise<void> {
  const server = createServer((sock) => {
    let pending = Buffer.alloc(0);
    sock.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) break;
        const frame = Buffer.from(pending.subarray(4, 4 + size));
        pending = pending.subarray(4 + size);
        try {
          respond(sock, frame, cap, port);
        } catch (e) {
          console.error(`failed to answer: ${(e as Error).stack}`);
          sock.destroy();
        }
      }
    });
    sock.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    await run(port);
  } finally {
    server.close();
  }
}

async function captureKafkajs(): Promise<void> {
  const { Kafka, logLevel } = await import("kafkajs");
  const cap: Capture = { client: "kafkajs", seen: new Set(), wanted: new Set([1]), onAllSeen: () => {} };
  await withServer(cap, async (port) => {
    const kafka = new Kafka({
      clientId: "spindle-capture",
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: TOPIC,
      messages: [{ key: "k", value: "hello spindle", headers: { h: "1" } }],
    });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: GROUP, maxWaitTimeInMs: 100 });
    const fetched = new Promise<void>((resolve) => {
      cap.onAllSeen = resolve;
    });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    await Promise.race([fetched, new Promise((r) => setTimeout(r, 15_000))]);
    await consumer.disconnect().catch(() => {});
  });
}

function runKcat(args: string[], input: string | null, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn("kcat", args, { stdio: [input === null ? "ignore" : "pipe", "ignore", "inherit"] });
    if (input !== null) child.stdin?.end(input);
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.on("error", (e) => {
      console.error(`kcat: ${e.message}`);
      clearTimeout(timer);
      resolve();
    });
  });
}

async function captureKcat(): Promise<void> {
  const cap: Capture = { client: "librdkafka", seen: new Set(), wanted: new Set(), onAllSeen: () => {} };
  await withServer(cap, async (port) => {
    const b = `127.0.0.1:${port}`;
    await runKcat(["-b", b, "-P", "-t", TOPIC, "-X", "linger.ms=0"], "hello from kcat\n", 10_000);
    await runKcat(["-b", b, "-C", "-t", TOPIC, "-p", "0", "-o", "beginning", "-e", "-c", "1"], null, 5_000);
    await runKcat(["-b", b, "-G", GROUP, TOPIC, "-e"], null, 8_000);
  });
}

mkdirSync(fixturesDir, { recursive: true });
const which = process.argv.slice(2);
if (which.length === 0 || which.includes("kafkajs")) await captureKafkajs();
if (which.length === 0 || which.includes("kcat")) await captureKcat();
