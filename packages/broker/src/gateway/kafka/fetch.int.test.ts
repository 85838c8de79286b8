// Fetch semantics against a real spindle process: partition and response byte limits, long polling
// woken by a produce (also one racing the fetch, on any asked partition), max_wait_ms honoured, offsets out of range.
// Invariant: every check reads the broker's actual Fetch response over a socket.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { encodeRecordBatch, type FetchResponse, type ProduceResponse } from "@spindle/protocol";
import { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";
import { request } from "./raw-client.ts";

let spindle: SpindleProcess;
let kafka: Kafka;

before(async () => {
  spindle = await startSpindle();
  kafka = new Kafka({ clientId: "f", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  // 10 batches of 10 records × ~1 KiB each: every batch is about 10 KiB.
  for (let b = 0; b < 10; b++) {
    await producer.send({
      topic: "sizes",
      messages: Array.from({ length: 10 }, () => ({ value: "z".repeat(1000) })),
    });
  }
  await producer.disconnect();
});
after(async () => {
  await spindle.stop();
});

function fetch(
  offset: number,
  opts: { partitionMaxBytes?: number; maxBytes?: number; maxWaitMs?: number; minBytes?: number } = {},
) {
  return request<FetchResponse>(spindle.kafka, 1, 11, {
    replicaId: -1,
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: opts.minBytes ?? 0,
    maxBytes: opts.maxBytes ?? 50 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: "sizes",
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: BigInt(offset),
            logStartOffset: -1n,
            partitionMaxBytes: opts.partitionMaxBytes ?? 1024 * 1024,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: "",
  });
}

const partOf = (r: FetchResponse) => r.responses[0]?.partitions[0];

test("partition_max_bytes limits the batches returned, but one whole batch always comes back", async () => {
  const all = partOf(await fetch(0));
  assert.equal(all?.highWatermark, 100n);
  const batch = (all?.records?.length ?? 0) / 10;
  const some = partOf(await fetch(0, { partitionMaxBytes: Math.floor(batch * 2.5) }));
  assert.equal(some?.records?.length, batch * 2, "two whole batches fit");
  const tiny = partOf(await fetch(0, { partitionMaxBytes: 10 }));
  assert.equal(tiny?.records?.length, batch, "at least one batch even past the limit");
  const capped = partOf(await fetch(0, { maxBytes: Math.floor(batch * 3.5) }));
  assert.equal(capped?.records?.length, batch * 3, "max_bytes caps the whole response");
});

test("a parked fetch is answered as soon as a produce lands, and max_wait_ms is honoured", async () => {
  const t0 = Date.now();
  const empty = partOf(await fetch(100, { maxWaitMs: 800, minBytes: 1 }));
  const waited = Date.now() - t0;
  assert.equal(empty?.records?.length ?? 0, 0);
  assert.ok(waited >= 700 && waited < 5000, `waited ${waited} ms for max_wait_ms 800`);

  const parked = fetch(100, { maxWaitMs: 20_000, minBytes: 1 });
  await new Promise((r) => setTimeout(r, 300));
  const producer = kafka.producer();
  await producer.connect();
  const sent = Date.now();
  await producer.send({ topic: "sizes", messages: [{ value: "wake" }] });
  const woke = partOf(await parked);
  assert.ok((woke?.records?.length ?? 0) > 0, "the new batch came back");
  assert.ok(Date.now() - sent < 5000, "woken by the produce, not by the 20 s timeout");
  await producer.disconnect();
});

test("offsets past the end or before the start are OFFSET_OUT_OF_RANGE (1)", async () => {
  assert.equal(partOf(await fetch(10_000))?.errorCode, 1);
  assert.equal(partOf(await fetch(-5))?.errorCode, 1);
});

test("a fetch racing a produce is answered by the produce, round after round, on either of its partitions", async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "wake", numPartitions: 2 }] });
  await admin.disconnect();
  const ends = [0n, 0n];
  const fetchBoth = () =>
    request<FetchResponse>(spindle.kafka, 1, 11, {
      replicaId: -1,
      maxWaitMs: 5000,
      minBytes: 1,
      maxBytes: 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: "wake",
          partitions: ends.map((end, partition) => ({
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: end,
            logStartOffset: -1n,
            partitionMaxBytes: 1024 * 1024,
          })),
        },
      ],
      forgottenTopicsData: [],
      rackId: "",
    });
  const produce = (partition: number) =>
    request<ProduceResponse>(spindle.kafka, 0, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [
        {
          name: "wake",
          partitionData: [
            {
              index: partition,
              records: encodeRecordBatch({ timestamp: Date.now(), records: [{ value: Buffer.from("w") }] }),
            },
          ],
        },
      ],
    });
  // Sent together, the produce lands before, while or after the fetch parks: every order must wake it. A lost
  // wake-up is answered only at the 5 s max wait; a woken fetch within a few ms (2.5 s leaves room for load).
  for (let round = 0; round < 40; round++) {
    const partition = round % 2;
    const fetched = fetchBoth().then((r) => ({ r, at: performance.now() }));
    const acked = await produce(partition);
    const ackedAt = performance.now();
    const { r, at } = await fetched;
    const part = r.responses[0]?.partitions.find((p) => p.partitionIndex === partition);
    assert.ok((part?.records?.length ?? 0) > 0, `round ${round}: the produced batch came back`);
    assert.ok(at - ackedAt < 2500, `round ${round}: answered ${Math.round(at - ackedAt)} ms after the ack`);
    ends[partition] = (acked.responses[0]?.partitionResponses[0]?.baseOffset ?? 0n) + 1n;
  }
});
