// Consumer groups over HTTP against a real spindle process, with kafkajs consumers: state, members and their
// decoded assignment, lag per partition from kafkajs commits; offset resets in each mode (refused while a
// member is joined), which kafkajs then resumes from and which survive a restart; delete; and the errors.
// Invariant: what HTTP shows and changes is checked through the Kafka protocol by an unmodified client.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Consumer, Kafka, logLevel } from "kafkajs";
import { httpApi } from "../support/http-api.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

let spindle: SpindleProcess;
let api: ReturnType<typeof httpApi>;
let kafka: Kafka;

function connect(s: SpindleProcess): void {
  spindle = s;
  api = httpApi(s.http);
  kafka = new Kafka({ clientId: "http-groups", brokers: [s.kafka], logLevel: logLevel.NOTHING });
}

before(async () => connect(await startSpindle()));
after(async () => {
  await spindle.stop();
});

interface ErrorBody {
  error: string;
  reason: string;
}
interface OffsetRow {
  topic: string;
  partition: number;
  committed_offset: number | null;
  end_offset: number | null;
  lag: number | null;
  metadata: string | null;
}
interface GroupDetail {
  group_id: string;
  state: string;
  protocol_type: string;
  protocol: string;
  members: {
    member_id: string;
    client_id: string;
    client_host: string;
    assignment: { topic: string; partition: number }[] | null;
  }[];
  offsets: OffsetRow[];
}
interface GroupListing {
  group_id: string;
  state: string;
  protocol_type: string;
  members: number;
  lag: number;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const T0 = 1_700_000_000_000;

/** Appends `n` records to `partition`, the i-th stamped T0 + (first + i) seconds. */
async function produce(topic: string, partition: number, n: number, first = 0): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const messages = Array.from({ length: n }, (_, i) => ({
    partition,
    value: `p${partition}-${first + i}`,
    timestamp: String(T0 + (first + i) * 1000),
  }));
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

/** A consumer of `topic` in `groupId` that records each message; resolves once it has joined. */
async function member(groupId: string, topic: string, seen: { partition: number; offset: number }[] = []) {
  const consumer: Consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      seen.push({ partition, offset: Number(message.offset) });
    },
  });
  await until("the member to join", async () => {
    const g = await api<GroupDetail>("GET", `/api/groups/${encodeURIComponent(groupId)}`);
    return g.status === 200 && g.body.state === "Stable" && g.body.members.length === 1 ? true : undefined;
  });
  return { consumer, seen };
}

const committed = (g: GroupDetail) => g.offsets.map((o) => [o.partition, o.committed_offset]);

describe("state, members, lag", () => {
  test("a joined kafkajs member shows with its assignment; kafkajs commits give lag per partition", async () => {
    await api("PUT", "/api/topics/lagged", { partitions: 3 });
    await produce("lagged", 0, 10);
    await produce("lagged", 1, 10);
    await produce("lagged", 2, 10);
    const { consumer, seen } = await member("lag-group", "lagged");
    await until("30 records", async () => (seen.length >= 30 ? true : undefined));
    const live = await api<GroupDetail>("GET", "/api/groups/lag-group");
    assert.equal(live.body.state, "Stable");
    assert.equal(live.body.protocol_type, "consumer");
    assert.equal(live.body.protocol, "RoundRobinAssigner");
    const [m] = live.body.members;
    assert.equal(m?.client_id, "http-groups");
    assert.match(m?.client_host ?? "", /127\.0\.0\.1/);
    assert.deepEqual(m?.assignment?.map((a) => `${a.topic}/${a.partition}`).sort(), [
      "lagged/0",
      "lagged/1",
      "lagged/2",
    ]);
    const listed = await api<GroupListing[]>("GET", "/api/groups");
    assert.deepEqual(
      listed.body.find((g) => g.group_id === "lag-group"),
      { group_id: "lag-group", state: "Stable", protocol_type: "consumer", members: 1, lag: 0 },
    );
    await consumer.disconnect(); // kafkajs commits what it consumed as it leaves

    await produce("lagged", 0, 2, 10);
    await produce("lagged", 1, 3, 10);
    const g = await api<GroupDetail>("GET", "/api/groups/lag-group");
    assert.equal(g.body.state, "Empty");
    assert.deepEqual(g.body.members, []);
    assert.deepEqual(
      g.body.offsets.map((o) => [o.partition, o.committed_offset, o.end_offset, o.lag]),
      [
        [0, 10, 12, 2],
        [1, 10, 13, 3],
        [2, 10, 10, 0],
      ],
    );
    const after = await api<GroupListing[]>("GET", "/api/groups");
    const row = after.body.find((l) => l.group_id === "lag-group");
    assert.deepEqual([row?.state, row?.members, row?.lag], ["Empty", 0, 5]);
  });

  test("partitions assigned but never committed show with null offsets", async () => {
    await api("PUT", "/api/topics/quiet", { partitions: 2 });
    const { consumer } = await member("idle-group", "quiet");
    const g = await api<GroupDetail>("GET", "/api/groups/idle-group");
    assert.deepEqual(g.body.offsets, [
      { topic: "quiet", partition: 0, committed_offset: null, end_offset: 0, lag: null, metadata: null },
      { topic: "quiet", partition: 1, committed_offset: null, end_offset: 0, lag: null, metadata: null },
    ]);
    await consumer.disconnect();
  });
});

describe("reset offsets", () => {
  const reset = (group: string, body: unknown) =>
    api<{ offsets: { topic: string; partition: number; offset: number }[] } & ErrorBody>(
      "POST",
      `/api/groups/${encodeURIComponent(group)}/reset-offsets`,
      body,
    );

  test("each mode, refused with 409 while a member is joined; kafkajs resumes at the reset offsets", async () => {
    await api("PUT", "/api/topics/replay", { partitions: 2 });
    await produce("replay", 0, 10);
    await produce("replay", 1, 10);
    const group = "replay group/1"; // any group id works in the path once encoded
    const { consumer, seen } = await member(group, "replay");
    await until("20 records", async () => (seen.length >= 20 ? true : undefined));
    const refused = await reset(group, { topic: "replay", to: "earliest" });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, "conflict");
    assert.match(refused.body.reason, /has 1 active member\(s\); stop its consumers/);
    await consumer.disconnect();

    const earliest = await reset(group, { topic: "replay", to: "earliest" });
    assert.equal(earliest.status, 200);
    assert.deepEqual(earliest.body.offsets, [
      { topic: "replay", partition: 0, offset: 0 },
      { topic: "replay", partition: 1, offset: 0 },
    ]);
    const admin = kafka.admin();
    await admin.connect();
    const kafkaView = async () =>
      (await admin.fetchOffsets({ groupId: group, topics: ["replay"] }))[0]?.partitions
        .map((p) => [p.partition, Number(p.offset)])
        .sort((a, b) => (a[0] as number) - (b[0] as number));
    assert.deepEqual(await kafkaView(), [
      [0, 0],
      [1, 0],
    ]);
    assert.equal((await reset(group, { topic: "replay", to: "latest" })).status, 200);
    assert.deepEqual(await kafkaView(), [
      [0, 10],
      [1, 10],
    ]);
    const byTime = await reset(group, { topic: "replay", to: "timestamp", timestamp: T0 + 4500 });
    assert.deepEqual(
      byTime.body.offsets.map((o) => o.offset),
      [5, 5],
    );
    const late = await reset(group, {
      topic: "replay",
      to: "timestamp",
      timestamp: T0 + 99_000,
      partitions: [0],
    });
    assert.deepEqual(
      late.body.offsets,
      [{ topic: "replay", partition: 0, offset: 10 }],
      "past the newest: the end",
    );
    const exact = await reset(group, { topic: "replay", to: "offset", offset: 3, partitions: [1] });
    assert.deepEqual(exact.body.offsets, [{ topic: "replay", partition: 1, offset: 3 }]);
    const g = await api<GroupDetail>("GET", `/api/groups/${encodeURIComponent(group)}`);
    assert.deepEqual(committed(g.body), [
      [0, 10],
      [1, 3],
    ]);
    const clamped = await reset(group, { topic: "replay", to: "offset", offset: 500, partitions: [1] });
    assert.deepEqual(
      clamped.body.offsets,
      [{ topic: "replay", partition: 1, offset: 10 }],
      "clamped to the end",
    );
    await reset(group, { topic: "replay", to: "offset", offset: 3, partitions: [1] });
    await admin.disconnect();

    await produce("replay", 0, 1, 10);
    const resumed = await member(group, "replay");
    await until("8 records", async () => (resumed.seen.length >= 8 ? true : undefined));
    await resumed.consumer.disconnect();
    const first = (p: number) => resumed.seen.filter((s) => s.partition === p).map((s) => s.offset);
    assert.deepEqual(first(0), [10]);
    assert.deepEqual(first(1), [3, 4, 5, 6, 7, 8, 9]);
  });

  test("bad resets are 400 or 404 and change nothing", async () => {
    await api("PUT", "/api/topics/fixed", { partitions: 1 });
    await produce("fixed", 0, 4);
    assert.equal((await reset("fixed-group", { topic: "fixed", to: "offset", offset: 2 })).status, 200);
    const cases: [unknown, number, RegExp][] = [
      [{ to: "earliest" }, 400, /name the topic/],
      [{ topic: "fixed", to: "yesterday" }, 400, /'to' must be one of earliest, latest, timestamp, offset/],
      [{ topic: "fixed", to: "timestamp" }, 400, /needs "timestamp"/],
      [{ topic: "fixed", to: "offset" }, 400, /needs "offset"/],
      [{ topic: "fixed", to: "offset", offset: -1 }, 400, /'offset' must be an integer of at least 0/],
      [{ topic: "fixed", to: "earliest", partitions: [] }, 400, /non-empty array/],
      [
        { topic: "fixed", to: "earliest", partitions: [0, 4] },
        404,
        /topic fixed has partitions 0 to 0, not 4/,
      ],
      [{ topic: "gone", to: "earliest" }, 404, /topic gone does not exist/],
    ];
    for (const [body, status, reason] of cases) {
      const res = await reset("fixed-group", body);
      assert.equal(res.status, status, JSON.stringify(body));
      assert.match(res.body.reason, reason, JSON.stringify(body));
    }
    assert.equal((await reset("fixed-group", "{nope")).status, 400);
    const g = await api<GroupDetail>("GET", "/api/groups/fixed-group");
    assert.deepEqual(committed(g.body), [[0, 2]]);
  });
});

describe("delete, unknown groups, restart", () => {
  test("DELETE is 409 while a member is joined, then 204; the group is gone for kafkajs too", async () => {
    await api("PUT", "/api/topics/short", { partitions: 1 });
    await produce("short", 0, 1);
    const { consumer, seen } = await member("short-lived", "short");
    await until("a record", async () => (seen.length >= 1 ? true : undefined));
    const refused = await api<ErrorBody>("DELETE", "/api/groups/short-lived");
    assert.equal(refused.status, 409);
    assert.match(refused.body.reason, /stop its consumers before you delete it/);
    await consumer.disconnect();
    assert.equal((await api("DELETE", "/api/groups/short-lived")).status, 204);
    assert.equal((await api("GET", "/api/groups/short-lived")).status, 404);
    const admin = kafka.admin();
    await admin.connect();
    const { groups } = await admin.listGroups();
    await admin.disconnect();
    assert.ok(!groups.some((g) => g.groupId === "short-lived"));
  });

  test("an unknown group is 404 for GET and DELETE", async () => {
    for (const method of ["GET", "DELETE"]) {
      const res = await api<ErrorBody>(method, "/api/groups/no-such-group");
      assert.equal(res.status, 404, method);
      assert.deepEqual(res.body, {
        error: "Object Not Found",
        reason: "consumer group no-such-group does not exist",
      });
    }
  });

  test("reset offsets are durable: they are there after a restart", async () => {
    await api("PUT", "/api/topics/kept", { partitions: 1 });
    await produce("kept", 0, 6);
    assert.equal(
      (await api("POST", "/api/groups/kept-group/reset-offsets", { topic: "kept", to: "offset", offset: 4 }))
        .status,
      200,
    );
    await spindle.stop(true); // SIGKILL: nothing is flushed at exit
    connect(await startSpindle([], spindle.dataDir));
    const g = await api<GroupDetail>("GET", "/api/groups/kept-group");
    assert.deepEqual(
      g.body.offsets.map((o) => [o.partition, o.committed_offset, o.end_offset, o.lag]),
      [[0, 4, 6, 2]],
    );
  });
});
