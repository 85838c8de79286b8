// Appending records handed over as keys, values and headers (not as a client's batches): the HTTP produce path.
// Invariant: every check happens before any append, one uncompressed batch per partition goes through the
// partition's ordered append step (as Kafka's Produce), and the result means every batch is acknowledged.

import { encodeRecordBatch, type RecordHeader } from "@spindle/protocol";
import { BrokerError, crc32c } from "../lib/index.ts";
import type { AppendResult } from "../log/index.ts";
import type { Partition } from "./partition.ts";
import type { Partitioner } from "./partitioner.ts";
import type { Topic } from "./topics.ts";
import type { StreamTraffic } from "./traffic.ts";

export interface RecordToProduce {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  /** the partition asked for; null lets the partitioner choose (murmur2 of the key, else round robin) */
  partition: number | null;
}

export interface ProducedOffset {
  partition: number;
  offset: number;
}

export interface ProduceOptions {
  partitioner: Partitioner;
  traffic: StreamTraffic;
  /** the timestamp every record gets (CreateTime) */
  nowMs: number;
}

/** Appends `records` (in order within each partition); resolves with each record's partition and offset. */
export async function produceRecords(
  topic: Topic,
  records: readonly RecordToProduce[],
  opts: ProduceOptions,
): Promise<ProducedOffset[]> {
  const { name, config } = topic.def;
  const count = topic.partitions.length;
  const placed = records.map((r) => {
    const p = r.partition ?? opts.partitioner.partitionFor(name, count, r.key);
    if (!Number.isInteger(p) || p < 0 || p >= count) {
      throw new BrokerError("INVALID_PARTITIONS", `topic ${name} has partitions 0 to ${count - 1}, not ${p}`);
    }
    return p;
  });
  const byPartition = new Map<number, number[]>();
  placed.forEach((p, i) => {
    const list = byPartition.get(p);
    if (list === undefined) byPartition.set(p, [i]);
    else list.push(i);
  });
  const batches = [...byPartition].map(([index, at]) => {
    const batch = encodeRecordBatch(
      { records: at.map((i) => records[i] as RecordToProduce), timestamp: opts.nowMs },
      crc32c,
    );
    if (batch.length > config.maxMessageBytes) {
      throw new BrokerError(
        "MESSAGE_TOO_LARGE",
        `batch of ${batch.length} bytes for partition ${index} exceeds max.message.bytes ${config.maxMessageBytes}; send fewer or smaller records`,
      );
    }
    return { partition: topic.partitions[index] as Partition, at, batch };
  });
  // Every append starts before any is awaited, behind earlier produces to the same partition.
  const appended = await Promise.allSettled(
    batches.map(async (b) => {
      const step = await b.partition.inOrder(() => b.partition.appendChecked(b.batch));
      const result = (await step.result) as AppendResult; // no producer id: never refused as a duplicate
      opts.traffic.producedBatches++;
      opts.traffic.producedBytes += b.batch.length;
      return result;
    }),
  );
  const offsets: ProducedOffset[] = new Array(records.length);
  for (const [i, outcome] of appended.entries()) {
    if (outcome.status === "rejected") throw outcome.reason;
    const b = batches[i] as (typeof batches)[number];
    b.at.forEach((r, j) => {
      offsets[r] = { partition: b.partition.index, offset: outcome.value.baseOffset + j };
    });
  }
  return offsets;
}
