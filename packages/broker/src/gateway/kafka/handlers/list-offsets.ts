// ListOffsets: earliest (-2), latest (-1), max timestamp (-3, v7: KIP-734) and the first offset at or after
// a timestamp.
// Invariant: answers use the log's visible range [startOffset, endOffset), never unacknowledged offsets.

import {
  KafkaErrorCode,
  kafkaApis,
  type ListOffsetsResponseListOffsetsPartitionResponse as PartResult,
} from "@spindle/protocol";
import type { Partition } from "../../../streams/index.ts";
import { kafkaError } from "../error-map.ts";
import { defineHandler } from "../handler.ts";

const LATEST = -1n;
const EARLIEST = -2n;
const READ_COMMITTED = 1;
const MAX_TIMESTAMP = -3n;

function answer(partitionIndex: number, errorCode: number, offset: number, timestamp = -1): PartResult {
  return { partitionIndex, errorCode, timestamp: BigInt(timestamp), offset: BigInt(offset), leaderEpoch: 0 };
}

/** `latest` is the high watermark, or for read_committed the last stable offset */
async function lookup(p: Partition, timestamp: bigint, latest: number): Promise<PartResult> {
  if (timestamp === EARLIEST) return answer(p.index, KafkaErrorCode.NONE, p.startOffset);
  if (timestamp === LATEST) return answer(p.index, KafkaErrorCode.NONE, latest);
  if (timestamp < 0n && timestamp !== MAX_TIMESTAMP)
    return answer(p.index, KafkaErrorCode.INVALID_REQUEST, -1);
  try {
    const found =
      timestamp === MAX_TIMESTAMP
        ? await p.maxTimestampRecord()
        : await p.offsetForTimestamp(Number(timestamp));
    if (found === null) return answer(p.index, KafkaErrorCode.NONE, -1);
    return answer(p.index, KafkaErrorCode.NONE, found.offset, found.timestamp);
  } catch (e) {
    return answer(p.index, kafkaError(e).code, -1);
  }
}

export const listOffsetsHandler = defineHandler(kafkaApis[2], 1, 7, async (req, ctx) => {
  const topics = await Promise.all(
    req.topics.map(async (t) => {
      const topic = ctx.broker.topics.get(t.name);
      const partitions = await Promise.all(
        t.partitions.map((rp) => {
          const p = topic?.partitions[rp.partitionIndex];
          return p
            ? lookup(
                p,
                rp.timestamp,
                req.isolationLevel === READ_COMMITTED
                  ? ctx.broker.transactions.lastStableOffset(topic?.def.topicId ?? "", p.index, p.endOffset)
                  : p.endOffset,
              )
            : answer(rp.partitionIndex, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1);
        }),
      );
      return { name: t.name, partitions };
    }),
  );
  return { throttleTimeMs: 0, topics };
});
