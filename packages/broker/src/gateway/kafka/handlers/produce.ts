// Produce: validate each partition's record batches and append them; answer once they are durable.
// Invariant: appends are started synchronously in request order (offsets follow arrival); acks≠0 waits for the log.

import {
  batchSizeAt,
  KafkaErrorCode,
  kafkaApis,
  type ProduceRequestPartitionProduceData as PartData,
  type ProduceResponsePartitionProduceResponse as PartResult,
  type ProduceResponseTopicProduceResponse as TopicResult,
} from "@spindle/protocol";
import type { AppendResult } from "../../../log/index.ts";
import type { Partition, StreamTraffic, Topic, Transactions } from "../../../streams/index.ts";
import {
  batchProducer,
  isControlBatch,
  isTransactionalBatch,
  topicNameProblem,
} from "../../../streams/index.ts";
import { KAFKA_TXN_ERROR, kafkaError } from "../error-map.ts";
import { defineHandler } from "../handler.ts";
import { compressedRecordsProblem, isCompressed, KEYLESS_RECORD, recordsProblem } from "../record-check.ts";

const MAGIC_AT = 16;

function result(
  index: number,
  errorCode: number,
  baseOffset = -1,
  logStartOffset = -1,
  message: string | null = null,
): PartResult {
  return {
    index,
    errorCode,
    baseOffset: BigInt(baseOffset),
    logAppendTimeMs: -1n,
    logStartOffset: BigInt(logStartOffset),
    recordErrors: [],
    errorMessage: message,
  };
}

/** Splits a produce payload into batches; a string says why it was refused. */
export function splitBatches(
  records: Buffer | null,
  maxBatchBytes: number,
  requireKeys = false,
): Buffer[] | { code: number; why: string } {
  if (records === null || records.length === 0)
    return { code: KafkaErrorCode.CORRUPT_MESSAGE, why: "no records" };
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < records.length) {
    const size = batchSizeAt(records, pos);
    if (size === null || size < 61 || pos + size > records.length) {
      return { code: KafkaErrorCode.CORRUPT_MESSAGE, why: "truncated record batch" };
    }
    if (records[pos + MAGIC_AT] !== 2) {
      return {
        code: KafkaErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
        why: "only record batch v2 (magic 2) is accepted",
      };
    }
    if (size > maxBatchBytes) {
      return {
        code: KafkaErrorCode.MESSAGE_TOO_LARGE,
        why: `batch of ${size} bytes exceeds max.message.bytes ${maxBatchBytes}`,
      };
    }
    const problem = recordsProblem(records.subarray(pos, pos + size), requireKeys);
    if (problem !== null) return { code: recordErrorCode(problem), why: problem };
    // No copy: the log assigns offsets in place, and this request's frame is not used after the append.
    out.push(records.subarray(pos, pos + size));
    pos += size;
  }
  return out;
}

/** A keyless record in a compacted topic is INVALID_RECORD (87), which Produce has from v8 on (KIP-467);
 *  older versions get CORRUPT_MESSAGE (see olderRecordError). */
function recordErrorCode(problem: string): number {
  return problem.startsWith(KEYLESS_RECORD) ? KafkaErrorCode.INVALID_RECORD : KafkaErrorCode.CORRUPT_MESSAGE;
}

const SEQUENCE_ERRORS = {
  "out-of-order": KafkaErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  fenced: KafkaErrorCode.INVALID_PRODUCER_EPOCH,
} as const;

type Step =
  | ReturnType<Partition["appendChecked"]>
  | { outcome: { kind: "corrupt"; why: string }; result: null };

/** Checks a compressed batch's records (async), then appends it; runs in the partition's arrival order. */
async function checkThenAppend(p: Partition, batch: Buffer, requireKeys: boolean): Promise<Step> {
  const why = await compressedRecordsProblem(batch, requireKeys);
  return why === null ? p.appendChecked(batch) : { outcome: { kind: "corrupt", why }, result: null };
}

async function appendAll(
  p: Partition,
  batches: Buffer[],
  traffic: StreamTraffic,
  requireKeys: boolean,
): Promise<PartResult> {
  // Start (or refuse) every append before awaiting any, so offsets and sequence checks follow request
  // order; compressed batches wait for their check in the partition's queue, keeping their place.
  const steps = batches.map((b) =>
    p.inOrder(() => (isCompressed(b) ? checkThenAppend(p, b, requireKeys) : p.appendChecked(b))),
  );
  try {
    const started = await Promise.all(steps);
    const refused = started.find((s) => s.result === null);
    if (refused) {
      const o = refused.outcome;
      if (o.kind === "corrupt") return result0(p.index, recordErrorCode(o.why), o.why);
      const kind = o.kind as keyof typeof SEQUENCE_ERRORS;
      return result0(p.index, SEQUENCE_ERRORS[kind], `idempotent producer: ${kind} batch`);
    }
    const results = await Promise.all(started.map((s) => s.result as Promise<AppendResult>));
    traffic.producedBatches += batches.length;
    for (const b of batches) traffic.producedBytes += b.length;
    return result(p.index, KafkaErrorCode.NONE, results[0]?.baseOffset ?? -1, p.startOffset);
  } catch (e) {
    const { code, message } = kafkaError(e);
    return result(p.index, code, -1, -1, message);
  }
}

/** Produce before v8 has no INVALID_RECORD: its clients get CORRUPT_MESSAGE, as from Kafka. */
function olderRecordError(r: PartResult): void {
  if (r.errorCode === KafkaErrorCode.INVALID_RECORD) r.errorCode = KafkaErrorCode.CORRUPT_MESSAGE;
}

function result0(index: number, code: number, message: string): PartResult {
  return result(index, code, -1, -1, message);
}

/**
 * Markers are the coordinator's to write; a transactional batch needs its partition in its producer's open
 * transaction (else nothing would ever end it, and read_committed consumers would wait on it forever).
 */
function transactionProblem(
  topic: Topic,
  index: number,
  batches: Buffer[],
  txns: Transactions,
): PartResult | null {
  for (const b of batches) {
    if (isControlBatch(b))
      return result0(index, KafkaErrorCode.INVALID_RECORD, "control batches are written by the broker only");
    if (!isTransactionalBatch(b)) continue;
    const { producerId, epoch } = batchProducer(b);
    const e = txns.checkProduce(producerId, epoch, topic.def.topicId, index);
    if (e !== "NONE") return result0(index, KAFKA_TXN_ERROR[e], `transactional batch refused: ${e}`);
  }
  return null;
}

function producePartition(
  topic: Topic,
  part: PartData,
  traffic: StreamTraffic,
  txns: Transactions,
): Promise<PartResult> | PartResult {
  const p = topic.partitions[part.index];
  if (p === undefined) return result(part.index, KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const requireKeys = topic.def.config.cleanupPolicy !== "delete";
  const batches = splitBatches(part.records, topic.def.config.maxMessageBytes, requireKeys);
  if (!Array.isArray(batches)) return result(part.index, batches.code, -1, -1, batches.why);
  return transactionProblem(topic, part.index, batches, txns) ?? appendAll(p, batches, traffic, requireKeys);
}

export const produceHandler = defineHandler(kafkaApis[0], 3, 9, async (req, ctx) => {
  const { topics } = ctx.broker;
  const acksOk = req.acks === 0 || req.acks === 1 || req.acks === -1;
  const work: { name: string; parts: (Promise<PartResult> | PartResult)[] }[] = [];
  for (const t of req.topicData) {
    const fail = (code: number) => t.partitionData.map((p) => result(p.index, code));
    if (!acksOk) {
      work.push({ name: t.name, parts: fail(KafkaErrorCode.INVALID_REQUIRED_ACKS) });
      continue;
    }
    if (topicNameProblem(t.name) !== null) {
      work.push({ name: t.name, parts: fail(KafkaErrorCode.INVALID_TOPIC_EXCEPTION) });
      continue;
    }
    let topic = topics.getOrAutoCreate(t.name);
    if (topic instanceof Promise) topic = await topic.catch(() => undefined);
    if (topic === undefined) {
      work.push({ name: t.name, parts: fail(KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION) });
      continue;
    }
    const found = topic;
    work.push({
      name: t.name,
      parts: t.partitionData.map((part) =>
        producePartition(found, part, ctx.broker.traffic, ctx.broker.transactions),
      ),
    });
  }
  if (req.acks === 0) return null;
  const responses: TopicResult[] = [];
  for (const w of work) {
    const partitionResponses = await Promise.all(w.parts);
    if (ctx.version < 8) for (const r of partitionResponses) olderRecordError(r);
    responses.push({ name: w.name, partitionResponses });
  }
  // a resource alarm: the producer waits before its next request (KIP-219; the connection is muted too)
  return { responses, throttleTimeMs: ctx.produceThrottleMs };
});
