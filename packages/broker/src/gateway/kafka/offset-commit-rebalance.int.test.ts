// OffsetCommit while a group prepares a rebalance, against a real spindle process: a member of the current
// generation still owns its partitions and its commit is taken (Kafka refuses only between join and sync).
// Invariant: every check reads the broker's answers over a socket; committed offsets are read back after a restart.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, test } from "node:test";
import type {
  JoinGroupResponse,
  OffsetCommitResponse,
  OffsetFetchResponse,
  SyncGroupResponse,
} from "@spindle/protocol";
import { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";
import { request } from "./raw-client.ts";

let spindle: SpindleProcess;
let kafka: Kafka;

before(async () => {
  spindle = await startSpindle();
  kafka = new Kafka({ clientId: "oc", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
});
after(async () => {
  await spindle.stop();
});

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function createTopic(topic: string, numPartitions: number, records: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  for (let partition = 0; partition < numPartitions; partition++) {
    const messages = Array.from({ length: records }, (_, i) => ({ value: `${partition}-${i}`, partition }));
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

async function groupState(groupId: string): Promise<string> {
  const admin = kafka.admin();
  await admin.connect();
  const { groups } = await admin.describeGroups([groupId]);
  await admin.disconnect();
  return groups[0]?.state ?? "";
}

async function committed(address: string, groupId: string, topic: string, partitions: number[]) {
  const r = await request<OffsetFetchResponse>(address, 9, 5, {
    groupId,
    topics: [{ name: topic, partitionIndexes: partitions }],
  });
  return (r.topics ?? []).flatMap((t) => t.partitions.map((p) => Number(p.committedOffset)));
}

const join = (memberId: string) =>
  request<JoinGroupResponse>(spindle.kafka, 11, 5, {
    groupId: "raw-group",
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 30_000,
    memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: Buffer.alloc(0) }],
  });

test("a member of the current generation commits while another joins: accepted and durable", async () => {
  await createTopic("oc-raw", 1, 10);
  const a = await join("");
  assert.equal(a.errorCode, 0);
  const synced = await request<SyncGroupResponse>(spindle.kafka, 14, 3, {
    groupId: "raw-group",
    generationId: a.generationId,
    memberId: a.memberId,
    groupInstanceId: null,
    assignments: [{ memberId: a.memberId, assignment: Buffer.alloc(0) }],
  });
  assert.equal(synced.errorCode, 0);
  // b's join parks until a rejoins (or the rebalance times out): the group prepares a rebalance meanwhile
  const bJoin = join("").catch(() => null);
  await until("the rebalance to start", async () => (await groupState("raw-group")) === "PreparingRebalance");
  const commit = await request<OffsetCommitResponse>(spindle.kafka, 8, 7, {
    groupId: "raw-group",
    generationIdOrMemberEpoch: a.generationId,
    memberId: a.memberId,
    groupInstanceId: null,
    topics: [
      { name: "oc-raw", partitions: [{ partitionIndex: 0, committedOffset: 7n, committedMetadata: null }] },
    ],
  });
  assert.equal(
    commit.topics[0]?.partitions[0]?.errorCode,
    0,
    "the commit is taken, not REBALANCE_IN_PROGRESS",
  );
  assert.deepEqual(await committed(spindle.kafka, "raw-group", "oc-raw", [0]), [7]);
  await spindle.stop();
  await bJoin;
  spindle = await startSpindle([], spindle.dataDir);
  kafka = new Kafka({ clientId: "oc", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
  assert.deepEqual(await committed(spindle.kafka, "raw-group", "oc-raw", [0]), [7], "durable");
});

function kcatMember(topic: string, lines: { n: number }, log: { s: string }): ChildProcess {
  const child = spawn(
    "kcat",
    ["-b", spindle.kafka, "-G", "kcat-group", "-o", "beginning", "-u", "-q", topic],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.setEncoding("utf8").on("data", (s: string) => {
    for (const c of s) if (c === "\n") lines.n++;
  });
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (log.s += s));
  return child;
}

const exited = (c: ChildProcess) => new Promise<void>((resolve) => c.once("exit", () => resolve()));

test("two kcat -G members stopped together both keep their last commits", async () => {
  await createTopic("oc-kcat", 2, 1000);
  const [readA, readB] = [{ n: 0 }, { n: 0 }];
  const log = { s: "" };
  const a = kcatMember("oc-kcat", readA, log);
  const b = kcatMember("oc-kcat", readB, log);
  try {
    await until("both members to read everything", () => readA.n === 1000 && readB.n === 1000);
    // auto-commit runs every 5 s, so each member's last offsets are committed as it closes. a leaves
    // first; b, stopped while the group prepares the rebalance a's leaving started, commits then.
    a.kill("SIGTERM");
    await exited(a);
    await until("a's leave to start a rebalance", async () => (await groupState("kcat-group")) !== "Stable");
    b.kill("SIGTERM");
    await exited(b);
  } finally {
    a.kill("SIGKILL");
    b.kill("SIGKILL");
  }
  assert.deepEqual(await committed(spindle.kafka, "kcat-group", "oc-kcat", [0, 1]), [1000, 1000], log.s);
});
