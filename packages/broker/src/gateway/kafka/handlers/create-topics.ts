// CreateTopics: one durable topic per entry, with partitions and configs; validate_only checks without creating.
// Invariant: each topic gets its own error code; one bad entry never fails the others.

import {
  type CreateTopicsRequestCreatableTopic as Creatable,
  KafkaErrorCode,
  kafkaApis,
} from "@spindle/protocol";
import { describeConfig } from "../../../streams/index.ts";
import { kafkaError } from "../error-map.ts";
import { defineHandler, type RequestContext } from "../handler.ts";
import { wireTopicId, ZERO_TOPIC_ID } from "../topic-id.ts";

async function createOne(t: Creatable, validateOnly: boolean, ctx: RequestContext) {
  const base = {
    name: t.name,
    topicId: ZERO_TOPIC_ID,
    numPartitions: -1,
    replicationFactor: -1,
    configs: null,
  };
  if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
    const errorMessage = "this broker keeps one replica; use replication factor 1 or -1";
    return { ...base, errorCode: KafkaErrorCode.INVALID_REPLICATION_FACTOR, errorMessage };
  }
  const partitions =
    t.assignments.length > 0
      ? t.assignments.length
      : t.numPartitions === -1
        ? ctx.broker.topics.opts.defaultPartitions
        : t.numPartitions;
  try {
    const configs = t.configs.map((c) => [c.name, c.value] as const);
    const topic = await ctx.broker.topics.create(t.name, partitions, configs, validateOnly);
    return {
      name: t.name,
      topicId: wireTopicId(topic.def.topicId),
      errorCode: KafkaErrorCode.NONE,
      errorMessage: null,
      numPartitions: topic.def.partitions,
      replicationFactor: 1,
      configs: describeConfig(topic.def.config).map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: false,
        configSource: c.isDefault ? 5 : 1,
        isSensitive: false,
      })),
    };
  } catch (e) {
    const { code, message } = kafkaError(e);
    return { ...base, errorCode: code, errorMessage: message };
  }
}

export const createTopicsHandler = defineHandler(kafkaApis[19], 0, 7, async (req, ctx) => {
  const topics = [];
  for (const t of req.topics) topics.push(await createOne(t, req.validateOnly ?? false, ctx));
  return { throttleTimeMs: 0, topics };
});
