// Records over HTTP against a real spindle process: produce over HTTP and consume with kafkajs (keys, headers,
// partitions, murmur2 placement), produce with kafkajs (plain and gzip batches) and browse over HTTP by offset
// and timestamp, the page bounds and the errors. Invariant: both directions are checked by an unmodified
// third-party client, so a record differs in no byte between the two protocols.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CompressionTypes, type IHeaders, Kafka, type KafkaMessage, logLevel, Partitioners } from "kafkajs";
import { httpApi } from "../support/http-api.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

let spindle: SpindleProcess;
let api: ReturnType<typeof httpApi>;
let kafka: Kafka;

before(async () => {
  spindle = await startSpindle();
  api = httpApi(spindle.http);
  kafka = new Kafka({ clientId: "http-records", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
});
after(async () => {
  await spindle.stop();
});

interface ErrorBody {
  error: string;
  reason: string;
}
interface ShownRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  key_encoding: string | null;
  headers: Record<string, string | null | (string | null)[]>;
  headers_encoding: string;
  value: string | null;
  value_encoding: string | null;
}
interface Page {
  records: ShownRecord[];
  next_offset: number;
  start_offset: number;
  end_offset: number;
}

async function consumeAll(
  topic: string,
  count: number,
): Promise<{ partition: number; message: KafkaMessage }[]> {
  const consumer = kafka.consumer({ groupId: `read-${topic}`, sessionTimeout: 10_000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const got: { partition: number; message: KafkaMessage }[] = [];
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      got.push({ partition, message });
      if (got.length >= count) done();
    },
  });
  const timeout = setTimeout(() => done(), 30_000);
  await all;
  clearTimeout(timeout);
  await consumer.disconnect();
  return got;
}

const text = (b: Buffer | string | null | undefined) => (b === null || b === undefined ? null : b.toString());

describe("produce over HTTP, consume with kafkajs", () => {
  test("keys go to kafkajs' partition for them, keyless ones round robin, an explicit partition is kept", async () => {
    assert.equal((await api("PUT", "/api/topics/events", { partitions: 3 })).status, 201);
    const records = [
      { key: "user-1", value: { kind: "signup", n: 1 }, headers: { trace: "t1", hop: ["a", "b"] } },
      { key: "user-2", value: "plain text" },
      { value: "keyless 1" },
      { value: "keyless 2" },
      { value: "keyless 3" },
      { partition: 2, key: "user-1", value: "pinned" },
      {
        key: "AAEC",
        key_encoding: "base64",
        value: "/wA=",
        value_encoding: "base64",
        headers_encoding: "base64",
        headers: { b: "/w==" },
      },
      { key: "user-3", value: null },
    ];
    const res = await api<{ offsets: { partition: number; offset: number }[] }>(
      "POST",
      "/api/topics/events/records",
      {
        records,
      },
    );
    assert.equal(res.status, 200);
    const offsets = res.body.offsets;
    assert.equal(offsets.length, records.length);
    const theirs = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2].map((partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    const kafkajsPartition = (key: Buffer) =>
      theirs({ topic: "events", partitionMetadata, message: { key, value: null } });
    assert.equal(offsets[0]?.partition, kafkajsPartition(Buffer.from("user-1")));
    assert.equal(offsets[1]?.partition, kafkajsPartition(Buffer.from("user-2")));
    assert.equal(offsets[6]?.partition, kafkajsPartition(Buffer.from([0, 1, 2])));
    assert.deepEqual(new Set([2, 3, 4].map((i) => offsets[i]?.partition)), new Set([0, 1, 2]));
    assert.equal(offsets[5]?.partition, 2);

    const got = await consumeAll("events", records.length);
    assert.equal(got.length, records.length);
    const at = (i: number) => {
      const o = offsets[i];
      const found = got.find((g) => g.partition === o?.partition && g.message.offset === String(o?.offset));
      assert.ok(found, `record ${i} at ${JSON.stringify(o)}`);
      return found.message;
    };
    const first = at(0);
    assert.equal(text(first.key), "user-1");
    assert.deepEqual(JSON.parse(text(first.value) ?? ""), { kind: "signup", n: 1 });
    const headers = first.headers as IHeaders;
    assert.equal(text(headers.trace as Buffer), "t1");
    assert.deepEqual((headers.hop as Buffer[]).map(text), ["a", "b"]);
    assert.equal(text(at(1).value), "plain text");
    assert.equal(text(at(5).value), "pinned");
    const binary = at(6);
    assert.deepEqual(binary.key, Buffer.from([0, 1, 2]));
    assert.deepEqual(binary.value, Buffer.from([0xff, 0]));
    assert.deepEqual((binary.headers as IHeaders).b, Buffer.from([0xff]));
    assert.equal(at(7).value, null);
  });

  test("bad records are 400 naming the record and field; nothing of the request is produced", async () => {
    assert.equal((await api("PUT", "/api/topics/strict", { partitions: 2 })).status, 201);
    const cases: [unknown, RegExp][] = [
      [{}, /"records"/],
      [{ records: [] }, /at least one/],
      [{ records: [{ value: "ok" }, { key: "k" }] }, /records\[1\]\.value is missing/],
      [{ records: [{ value: "ok" }, { value: "x", partition: 2 }] }, /partitions 0 to 1, not 2/],
      [{ records: [{ value: "x", partition: -1 }] }, /records\[0\]\.partition/],
      [{ records: [{ value: "%%", value_encoding: "base64" }] }, /records\[0\]\.value is not valid base64/],
      [{ records: [{ value: "x", headers: { h: 5 } }] }, /records\[0\]\.headers\.h/],
      [{ records: [{ value: "x", value_encoding: "utf16" }] }, /records\[0\]\.value_encoding/],
    ];
    for (const [body, reason] of cases) {
      const res = await api<ErrorBody>("POST", "/api/topics/strict/records", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.match(res.body.reason, reason);
    }
    const json = await api<ErrorBody>("POST", "/api/topics/strict/records", "{oops");
    assert.equal(json.status, 400);
    const topic = await api<{ messages: number }>("GET", "/api/topics/strict");
    assert.equal(topic.body.messages, 0);
    const missing = await api<ErrorBody>("POST", "/api/topics/absent/records", { records: [{ value: "x" }] });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.reason, "topic absent does not exist");
  });

  test("a batch over max.message.bytes is 413 naming the config", async () => {
    await api("PUT", "/api/topics/small", { partitions: 1, configs: { "max.message.bytes": "1000" } });
    const res = await api<ErrorBody>("POST", "/api/topics/small/records", {
      records: [{ value: "x".repeat(2000) }],
    });
    assert.equal(res.status, 413);
    assert.match(res.body.reason, /exceeds max\.message\.bytes 1000/);
  });
});

describe("produce with kafkajs, browse over HTTP", () => {
  const t0 = 1_700_000_000_000;

  before(async () => {
    await api("PUT", "/api/topics/browse", { partitions: 1 });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: "browse",
      acks: -1,
      messages: [
        {
          key: "a",
          value: '{"id":12345678901234567890,"ok":true}',
          timestamp: String(t0),
          headers: { h: "1" },
        },
        { key: null, value: Buffer.from([0xde, 0xad, 0xbe, 0xef]), timestamp: String(t0 + 1000) },
        { key: "c", value: "just text", timestamp: String(t0 + 2000) },
      ],
    });
    await producer.send({
      topic: "browse",
      acks: -1,
      compression: CompressionTypes.GZIP,
      messages: [0, 1, 2, 3, 4].map((i) => ({
        key: `z${i}`,
        value: JSON.stringify({ gz: i }),
        timestamp: String(t0 + 3000 + i * 1000),
      })),
    });
    await producer.disconnect();
  });

  test("a page from offset 0 has every record decoded, gzip ones too, with encodings and timestamps", async () => {
    const res = await api<Page>("GET", "/api/topics/browse/records?partition=0&offset=0&limit=100");
    assert.equal(res.status, 200);
    const { records, next_offset, start_offset, end_offset } = res.body;
    assert.deepEqual(
      { next_offset, start_offset, end_offset },
      { next_offset: 8, start_offset: 0, end_offset: 8 },
    );
    assert.deepEqual(
      records.map((r) => r.offset),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.deepEqual(records[0], {
      partition: 0,
      offset: 0,
      timestamp: t0,
      key: "a",
      key_encoding: "string",
      headers: { h: "1" },
      headers_encoding: "string",
      value: '{\n  "id": 12345678901234567890,\n  "ok": true\n}',
      value_encoding: "json",
    });
    assert.deepEqual(
      [records[1]?.key, records[1]?.key_encoding, records[1]?.value, records[1]?.value_encoding],
      [null, null, "3q2+7w==", "base64"],
    );
    assert.deepEqual([records[2]?.value, records[2]?.value_encoding], ["just text", "string"]);
    assert.deepEqual(records[5], {
      partition: 0,
      offset: 5,
      timestamp: t0 + 5000,
      key: "z2",
      key_encoding: "string",
      headers: {},
      headers_encoding: "string",
      value: '{\n  "gz": 2\n}',
      value_encoding: "json",
    });
  });

  test("an offset inside a compressed batch starts there; limit bounds the page and next_offset continues it", async () => {
    const page = await api<Page>("GET", "/api/topics/browse/records?offset=4&limit=2");
    assert.deepEqual(
      page.body.records.map((r) => r.key),
      ["z1", "z2"],
    );
    assert.equal(page.body.next_offset, 6);
    const rest = await api<Page>(`GET`, `/api/topics/browse/records?offset=${page.body.next_offset}`);
    assert.deepEqual(
      rest.body.records.map((r) => r.key),
      ["z3", "z4"],
    );
  });

  test("a timestamp finds the first record at or after it; past the end, or an offset past it, is an empty page", async () => {
    const found = await api<Page>("GET", `/api/topics/browse/records?timestamp=${t0 + 3500}&limit=1`);
    assert.deepEqual(
      found.body.records.map((r) => [r.offset, r.timestamp]),
      [[4, t0 + 4000]],
    );
    assert.equal(found.body.next_offset, 5);
    const late = await api<Page>("GET", `/api/topics/browse/records?timestamp=${t0 + 60_000}`);
    assert.deepEqual({ ...late.body }, { records: [], next_offset: 8, start_offset: 0, end_offset: 8 });
    const past = await api<Page>("GET", "/api/topics/browse/records?offset=100");
    assert.deepEqual({ ...past.body }, { records: [], next_offset: 8, start_offset: 0, end_offset: 8 });
  });

  test("bad browse parameters are 400; an unknown topic or partition is 404", async () => {
    const cases: [string, number, RegExp][] = [
      ["/api/topics/browse/records?limit=1001", 400, /'limit' must be an integer from 1 to 1000/],
      ["/api/topics/browse/records?limit=0", 400, /'limit'/],
      ["/api/topics/browse/records?offset=1&timestamp=2", 400, /offset or timestamp, not both/],
      ["/api/topics/browse/records?offset=abc", 400, /'offset' must be an integer/],
      ["/api/topics/browse/records?partition=3", 404, /topic browse has partitions 0 to 0, not 3/],
      ["/api/topics/nope/records", 404, /topic nope does not exist/],
    ];
    for (const [path, status, reason] of cases) {
      const res = await api<ErrorBody>("GET", path);
      assert.equal(res.status, status, path);
      assert.match(res.body.reason, reason, path);
    }
  });
});

test("a page holds at most 4 MiB of records (one record always), and next_offset goes on from there", async () => {
  await api("PUT", "/api/topics/big", { partitions: 1, configs: { "max.message.bytes": "2000000" } });
  const value = "v".repeat(1_500_000);
  for (let i = 0; i < 4; i++) {
    const res = await api("POST", "/api/topics/big/records", { records: [{ key: `big${i}`, value }] });
    assert.equal(res.status, 200);
  }
  const first = await api<Page>("GET", "/api/topics/big/records?limit=10");
  assert.deepEqual(
    first.body.records.map((r) => [r.key, r.value?.length]),
    [
      ["big0", 1_500_000],
      ["big1", 1_500_000],
    ],
  );
  assert.equal(first.body.next_offset, 2);
  const second = await api<Page>("GET", "/api/topics/big/records?offset=2&limit=10");
  assert.deepEqual(
    second.body.records.map((r) => r.key),
    ["big2", "big3"],
  );
  assert.equal(second.body.next_offset, 4);
});
