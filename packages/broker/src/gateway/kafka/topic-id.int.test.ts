// Topic ids in Metadata v10+ and CreateTopics v7 responses over a real socket: streams/ stores RFC 4122
// strings and the codec takes base64url; @platformatic/kafka asks Metadata v12 and crashed the broker here.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { CreateTopicsResponse, FetchResponse, MetadataResponse } from "@spindle/protocol";
import { Kafka, logLevel } from "kafkajs";
import { request } from "./raw-client.ts";
import { startTestKafka, type TestKafka } from "./test-broker.ts";
import { uuidFromWire, wireTopicId, ZERO_TOPIC_ID } from "./topic-id.ts";

let kafka: TestKafka;
before(async () => {
  kafka = await startTestKafka();
});
after(async () => {
  await kafka.close();
});

test("wireTopicId keeps the 16 bytes of the UUID", () => {
  const id = wireTopicId("3f2504e0-4f89-41d3-9a0c-0305e82c3301");
  assert.equal(Buffer.from(id, "base64url").toString("hex"), "3f2504e04f8941d39a0c0305e82c3301");
  assert.equal(wireTopicId("00000000-0000-0000-0000-000000000000"), ZERO_TOPIC_ID);
  assert.throws(() => wireTopicId("not-a-uuid"), /not a UUID/);
  assert.equal(
    uuidFromWire(wireTopicId("3f2504e0-4f89-41d3-9a0c-0305e82c3301")),
    "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
  );
});

test("CreateTopics v7 and Metadata v12 carry the topic's id, the same in both", async () => {
  const created = await request<CreateTopicsResponse>(kafka.address, 19, 7, {
    topics: [{ name: "ids", numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  const id = created.topics[0]?.topicId;
  assert.equal(created.topics[0]?.errorCode, 0);
  assert.ok(id !== undefined && id !== ZERO_TOPIC_ID, "a created topic has a non-zero id");
  const meta = await request<MetadataResponse>(kafka.address, 3, 12, {
    topics: [{ name: "ids" }, { name: "missing-topic" }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const [ids, missing] = meta.topics;
  assert.equal(ids?.topicId, id);
  assert.equal(ids?.partitions.length, 2);
  assert.equal(missing?.errorCode, 3, "UNKNOWN_TOPIC_OR_PARTITION");
  assert.equal(missing?.topicId, ZERO_TOPIC_ID);
});

function fetchBody(topic: { topic?: string; topicId?: string }) {
  const partition = {
    partition: 0,
    currentLeaderEpoch: -1,
    fetchOffset: 0n,
    lastFetchedEpoch: -1,
    logStartOffset: -1n,
    partitionMaxBytes: 1 << 20,
  };
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ ...topic, partitions: [partition] }],
    forgottenTopicsData: [],
    rackId: "",
  };
}

test("Fetch v13 names the topic by id and returns what v12 returns by name", async () => {
  const client = new Kafka({ clientId: "ids", brokers: [kafka.address], logLevel: logLevel.NOTHING });
  const producer = client.producer();
  await producer.connect();
  await producer.send({ topic: "by-id", messages: [{ value: "a" }, { value: "b" }] });
  await producer.disconnect();
  const meta = await request<MetadataResponse>(kafka.address, 3, 12, {
    topics: [{ name: "by-id" }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const topicId = meta.topics[0]?.topicId ?? "";
  const v13 = await request<FetchResponse>(kafka.address, 1, 13, fetchBody({ topicId }));
  const v12 = await request<FetchResponse>(kafka.address, 1, 12, fetchBody({ topic: "by-id" }));
  assert.equal(v13.responses[0]?.topicId, topicId);
  const [p13, p12] = [v13.responses[0]?.partitions[0], v12.responses[0]?.partitions[0]];
  assert.equal(p13?.errorCode, 0);
  assert.equal(p13?.highWatermark, 2n);
  assert.ok((p13?.records?.length ?? 0) > 0);
  assert.deepEqual(p13?.records, p12?.records);
  const unknown = await request<FetchResponse>(
    kafka.address,
    1,
    13,
    fetchBody({ topicId: wireTopicId("3f2504e0-4f89-41d3-9a0c-0305e82c3301") }),
  );
  assert.equal(unknown.responses[0]?.partitions[0]?.errorCode, 100, "UNKNOWN_TOPIC_ID");
});
