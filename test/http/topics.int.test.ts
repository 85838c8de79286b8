// Topics over HTTP against a real spindle process, checked with the kafkajs admin client: create, describe,
// alter configs, add partitions, delete; and the errors (404, 400 naming the config key, bad JSON, bad names).
// Invariant: every change made over HTTP is checked through the Kafka protocol, and the reverse.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { httpApi } from "../support/http-api.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

let spindle: SpindleProcess;
let api: ReturnType<typeof httpApi>;
let kafka: Kafka;
let admin: Admin;

before(async () => {
  spindle = await startSpindle();
  api = httpApi(spindle.http);
  kafka = new Kafka({ clientId: "http-topics", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  await admin.connect();
});
after(async () => {
  await admin.disconnect();
  await spindle.stop();
});

interface ErrorBody {
  error: string;
  reason: string;
}
interface TopicDetail {
  name: string;
  messages: number;
  configs: Record<string, string>;
  partitions: { partition: number; start_offset: number; end_offset: number; messages: number }[];
}

async function kafkaConfigs(topic: string): Promise<Record<string, string>> {
  const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic }] });
  const entries = res.resources[0]?.configEntries ?? [];
  return Object.fromEntries(entries.map((e) => [e.configName, e.configValue]));
}

async function kafkaPartitions(topic: string): Promise<number> {
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  return meta.topics[0]?.partitions.length ?? 0;
}

describe("create, describe, delete", () => {
  test("PUT creates a topic kafkajs sees with its partitions and configs; a second PUT is idempotent", async () => {
    const created = await api("PUT", "/api/topics/orders", {
      partitions: 3,
      configs: { "retention.ms": "3600000", "max.message.bytes": 2_000_000 },
    });
    assert.equal(created.status, 201);
    assert.equal(await kafkaPartitions("orders"), 3);
    const configs = await kafkaConfigs("orders");
    assert.equal(configs["retention.ms"], "3600000");
    assert.equal(configs["max.message.bytes"], "2000000");
    assert.equal((await api("PUT", "/api/topics/orders", { partitions: 3 })).status, 204);
    assert.equal((await api("PUT", "/api/topics/orders", {})).status, 204);
    const other = await api<ErrorBody>("PUT", "/api/topics/orders", { partitions: 5 });
    assert.equal(other.status, 400);
    assert.match(
      other.body.reason,
      /inequivalent arg 'partitions' for topic 'orders': received '5' but current is '3'/,
    );
    const config = await api<ErrorBody>("PUT", "/api/topics/orders", { configs: { "retention.ms": "1000" } });
    assert.equal(config.status, 400);
    assert.match(config.body.reason, /inequivalent arg 'retention.ms'/);
  });

  test("GET lists and describes topics, with messages and offsets per partition", async () => {
    await admin.createTopics({ topics: [{ topic: "made-by-kafka", numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: "made-by-kafka",
      acks: -1,
      messages: [
        { partition: 0, value: "a" },
        { partition: 0, value: "b" },
        { partition: 1, value: "c" },
      ],
    });
    await producer.disconnect();
    const list = await api<{ name: string; partitions: number; messages: number; internal: boolean }[]>(
      "GET",
      "/api/topics",
    );
    assert.equal(list.status, 200);
    const listed = list.body.find((t) => t.name === "made-by-kafka");
    assert.deepEqual(
      { partitions: listed?.partitions, messages: listed?.messages, internal: listed?.internal },
      { partitions: 2, messages: 3, internal: false },
    );
    const one = await api<TopicDetail>("GET", "/api/topics/made-by-kafka");
    assert.equal(one.status, 200);
    assert.equal(one.body.messages, 3);
    assert.deepEqual(one.body.partitions, [
      { partition: 0, start_offset: 0, end_offset: 2, messages: 2 },
      { partition: 1, start_offset: 0, end_offset: 1, messages: 1 },
    ]);
    assert.equal(one.body.configs["cleanup.policy"], "delete");
  });

  test("DELETE removes the topic for kafkajs too; a second DELETE is 404", async () => {
    assert.equal((await api("PUT", "/api/topics/doomed", { partitions: 1 })).status, 201);
    assert.ok((await admin.listTopics()).includes("doomed"));
    assert.equal((await api("DELETE", "/api/topics/doomed")).status, 204);
    assert.ok(!(await admin.listTopics()).includes("doomed"));
    const again = await api<ErrorBody>("DELETE", "/api/topics/doomed");
    assert.equal(again.status, 404);
    assert.deepEqual(again.body, { error: "Object Not Found", reason: "topic doomed does not exist" });
  });
});

describe("alter", () => {
  test("PUT configs changes what kafkajs describes; null resets a key to its default", async () => {
    assert.equal((await api("PUT", "/api/topics/tuned", { partitions: 1 })).status, 201);
    const set = await api("PUT", "/api/topics/tuned/configs", {
      "retention.ms": "60000",
      "cleanup.policy": "compact",
    });
    assert.equal(set.status, 204);
    let configs = await kafkaConfigs("tuned");
    assert.equal(configs["retention.ms"], "60000");
    assert.equal(configs["cleanup.policy"], "compact");
    assert.equal((await api("PUT", "/api/topics/tuned/configs", { "cleanup.policy": null })).status, 204);
    configs = await kafkaConfigs("tuned");
    assert.equal(configs["cleanup.policy"], "delete");
    assert.equal(configs["retention.ms"], "60000");
    const shown = await api<TopicDetail>("GET", "/api/topics/tuned");
    assert.equal(shown.body.configs["retention.ms"], "60000");
  });

  test("POST partitions grows the topic as kafkajs sees it; shrinking is refused", async () => {
    assert.equal((await api("PUT", "/api/topics/growing", { partitions: 2 })).status, 201);
    assert.equal((await api("POST", "/api/topics/growing/partitions", { count: 5 })).status, 204);
    assert.equal(await kafkaPartitions("growing"), 5);
    const shrink = await api<ErrorBody>("POST", "/api/topics/growing/partitions", { count: 3 });
    assert.equal(shrink.status, 400);
    assert.match(shrink.body.reason, /has 5 partitions; ask for more/);
    const missing = await api<ErrorBody>("POST", "/api/topics/growing/partitions", {});
    assert.equal(missing.status, 400);
    assert.match(missing.body.reason, /"count"/);
  });
});

describe("errors", () => {
  test("a bad config value or an unknown key is 400 naming the key, and nothing is created or changed", async () => {
    const bad = await api<ErrorBody>("PUT", "/api/topics/badconf", { configs: { "segment.bytes": "12" } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, "bad_request");
    assert.match(bad.body.reason, /segment\.bytes=12: must be at least 1024/);
    assert.equal((await api("GET", "/api/topics/badconf")).status, 404);
    await api("PUT", "/api/topics/conf", {});
    const unknown = await api<ErrorBody>("PUT", "/api/topics/conf/configs", {
      "retention.ms": "5",
      "no.such.key": "1",
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.reason, /no\.such\.key/);
    assert.equal((await kafkaConfigs("conf"))["retention.ms"], "604800000");
    const notText = await api<ErrorBody>("PUT", "/api/topics/conf/configs", { "retention.ms": true });
    assert.equal(notText.status, 400);
    assert.match(notText.body.reason, /retention\.ms/);
  });

  test("unknown topics are 404; bad JSON, bad names and bad partition counts are 400", async () => {
    for (const [method, path] of [
      ["GET", "/api/topics/nope"],
      ["PUT", "/api/topics/nope/configs"],
      ["POST", "/api/topics/nope/partitions"],
    ] as const) {
      const res = await api<ErrorBody>(method, path, method === "GET" ? undefined : { count: 2 });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.body.reason, "topic nope does not exist");
    }
    const json = await api<ErrorBody>("PUT", "/api/topics/x", "{not json");
    assert.equal(json.status, 400);
    assert.match(json.body.reason, /not valid JSON/);
    const name = await api<ErrorBody>("PUT", "/api/topics/bad%20name", {});
    assert.equal(name.status, 400);
    assert.match(name.body.reason, /must be 1-249 characters/);
    const zero = await api<ErrorBody>("PUT", "/api/topics/zero", { partitions: 0 });
    assert.equal(zero.status, 400);
    assert.match(zero.body.reason, /partition count 0 must be from 1 to 1000/);
    const text = await api<ErrorBody>("PUT", "/api/topics/zero", { partitions: "many" });
    assert.equal(text.status, 400);
    assert.match(text.body.reason, /'partitions' must be an integer/);
  });
});
