// Metadata: this one broker, and each asked-for topic (auto-created when allowed) with its partitions.
// Invariant: this node leads every partition, so clients always send produce and fetch here.

import {
  KafkaErrorCode,
  kafkaApis,
  type MetadataResponseMetadataResponseTopic as TopicMeta,
} from "@spindle/protocol";
import type { Topic } from "../../../streams/index.ts";
import { topicNameProblem } from "../../../streams/index.ts";
import { defineHandler, type RequestContext } from "../handler.ts";
import { wireTopicId, ZERO_TOPIC_ID } from "../topic-id.ts";

export function topicMetadata(topic: Topic, nodeId: number): TopicMeta {
  return {
    errorCode: KafkaErrorCode.NONE,
    name: topic.def.name,
    topicId: wireTopicId(topic.def.topicId),
    isInternal: false,
    partitions: topic.partitions.map((p) => ({
      errorCode: KafkaErrorCode.NONE,
      partitionIndex: p.index,
      leaderId: nodeId,
      leaderEpoch: 0,
      replicaNodes: [nodeId],
      isrNodes: [nodeId],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: -2147483648,
  };
}

function missing(name: string | null, errorCode: number): TopicMeta {
  return { errorCode, name, topicId: ZERO_TOPIC_ID, isInternal: false, partitions: [] };
}

async function lookup(name: string | null, allowCreate: boolean, ctx: RequestContext): Promise<TopicMeta> {
  const { topics, nodeId } = ctx.broker;
  if (name === null) return missing(name, KafkaErrorCode.UNKNOWN_TOPIC_ID);
  if (topicNameProblem(name) !== null) return missing(name, KafkaErrorCode.INVALID_TOPIC_EXCEPTION);
  const existing = topics.get(name);
  if (existing) return topicMetadata(existing, nodeId);
  if (!allowCreate) return missing(name, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  try {
    const t = await topics.getOrAutoCreate(name);
    return t ? topicMetadata(t, nodeId) : missing(name, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  } catch {
    return missing(name, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  }
}

export const metadataHandler = defineHandler(kafkaApis[3], 0, 12, async (req, ctx) => {
  const { topics, nodeId, clusterId } = ctx.broker;
  // v0 has no flag and always auto-creates; later versions default to true.
  const allowCreate = req.allowAutoTopicCreation ?? true;
  const asked = req.topics === null || (ctx.version === 0 && req.topics.length === 0) ? null : req.topics;
  const topicMetas =
    asked === null
      ? topics.list().map((t) => topicMetadata(t, nodeId))
      : await Promise.all(asked.map((t) => lookup(t.name, allowCreate, ctx)));
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId, host: ctx.host, port: ctx.port, rack: null }],
    clusterId,
    controllerId: nodeId,
    topics: topicMetas,
    clusterAuthorizedOperations: -2147483648,
  };
});
