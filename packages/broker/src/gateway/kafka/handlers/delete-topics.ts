// DeleteTopics: removes each named topic's definition and its partition files.
// Invariant: a deleted topic is gone from Metadata before its files are removed.

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { kafkaError } from "../error-map.ts";
import { defineHandler } from "../handler.ts";

export const deleteTopicsHandler = defineHandler(kafkaApis[20], 0, 5, async (req, ctx) => {
  const responses = [];
  for (const name of req.topicNames ?? []) {
    try {
      await ctx.broker.topics.delete(name);
      await ctx.broker.groups.forgetTopic(name);
      responses.push({ name, errorCode: KafkaErrorCode.NONE, errorMessage: null });
    } catch (e) {
      const { code, message } = kafkaError(e);
      responses.push({ name, errorCode: code, errorMessage: message });
    }
  }
  return { throttleTimeMs: 0, responses };
});
