// OffsetFetch v8 (several groups in one request, KIP-709) over a real socket: the only versions
// @platformatic/kafka speaks. Invariant: each group's answer is what v7 answers for it alone.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { MetadataResponse, OffsetCommitResponse, OffsetFetchResponse } from "@spindle/protocol";
import { request } from "./raw-client.ts";
import { startTestKafka, type TestKafka } from "./test-broker.ts";

let kafka: TestKafka;
before(async () => {
  kafka = await startTestKafka();
});
after(async () => {
  await kafka.close();
});

/** An Empty group takes a commit with generation -1 (as a simple consumer's commit). */
async function commit(groupId: string, topic: string, offset: number): Promise<void> {
  const r = await request<OffsetCommitResponse>(kafka.address, 8, 8, {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: "",
    groupInstanceId: null,
    topics: [
      {
        name: topic,
        partitions: [
          {
            partitionIndex: 0,
            committedOffset: BigInt(offset),
            committedLeaderEpoch: -1,
            committedMetadata: "m",
          },
        ],
      },
    ],
  });
  assert.equal(r.topics[0]?.partitions[0]?.errorCode, 0);
}

test("v8 answers each asked group with its committed offsets, -1 where none", async () => {
  // Metadata auto-creates the topic
  await request<MetadataResponse>(kafka.address, 3, 12, {
    topics: [{ name: "t8" }],
    allowAutoTopicCreation: true,
    includeTopicAuthorizedOperations: false,
  });
  await commit("g1", "t8", 5);
  await commit("g2", "t8", 7);
  const r = await request<OffsetFetchResponse>(kafka.address, 9, 8, {
    groups: [
      { groupId: "g1", topics: [{ name: "t8", partitionIndexes: [0] }] },
      { groupId: "g2", topics: null },
      { groupId: "g3", topics: [{ name: "t8", partitionIndexes: [0] }] },
    ],
    requireStable: false,
  });
  const offsets = (r.groups ?? []).map((g) => [
    g.groupId,
    g.errorCode,
    g.topics.flatMap((t) => t.partitions.map((p) => `${t.name}/${p.partitionIndex}=${p.committedOffset}`)),
  ]);
  assert.deepEqual(offsets, [
    ["g1", 0, ["t8/0=5"]],
    ["g2", 0, ["t8/0=7"]],
    ["g3", 0, ["t8/0=-1"]],
  ]);
});
