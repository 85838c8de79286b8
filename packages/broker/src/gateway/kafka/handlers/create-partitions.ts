// CreatePartitions: grows a topic to `count` partitions (never shrinks), each a new empty log.
// Invariant: existing partitions and their offsets are untouched.

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { kafkaError } from "../error-map.ts";
import { defineHandler } from "../handler.ts";

export const createPartitionsHandler = defineHandler(kafkaApis[37], 0, 3, async (req, ctx) => {
  const results = [];
  for (const t of req.topics) {
    try {
      await ctx.broker.topics.addPartitions(t.name, t.count, req.validateOnly);
      results.push({ name: t.name, errorCode: KafkaErrorCode.NONE, errorMessage: null });
    } catch (e) {
      const { code, message } = kafkaError(e);
      results.push({ name: t.name, errorCode: code, errorMessage: message });
    }
  }
  return { throttleTimeMs: 0, results };
});
