// DeleteRecords: moves a partition's start offset forward (-1 means up to the high watermark).
// Invariant: the start offset never moves backwards and never past the end offset.

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { kafkaError } from "../error-map.ts";
import { defineHandler } from "../handler.ts";

export const deleteRecordsHandler = defineHandler(kafkaApis[21], 0, 2, async (req, ctx) => {
  const topics = [];
  for (const t of req.topics) {
    const topic = ctx.broker.topics.get(t.name);
    const partitions = [];
    for (const rp of t.partitions) {
      const p = topic?.partitions[rp.partitionIndex];
      const result = (errorCode: number) => ({
        partitionIndex: rp.partitionIndex,
        lowWatermark: BigInt(p?.startOffset ?? -1),
        errorCode,
      });
      if (p === undefined) {
        partitions.push(result(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        continue;
      }
      const offset = rp.offset === -1n ? p.endOffset : Number(rp.offset);
      if (offset < 0 || offset > p.endOffset) {
        partitions.push(result(KafkaErrorCode.OFFSET_OUT_OF_RANGE));
        continue;
      }
      try {
        if (offset > p.startOffset) await p.log.deleteRecordsBefore(offset);
        partitions.push(result(KafkaErrorCode.NONE));
      } catch (e) {
        partitions.push(result(kafkaError(e).code));
      }
    }
    topics.push({ name: t.name, partitions });
  }
  return { throttleTimeMs: 0, topics };
});
