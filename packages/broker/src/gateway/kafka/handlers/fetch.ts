// Fetch: stored batches from each asked partition, long-polling until min_bytes or max_wait_ms.
// Invariant: a parked fetch is woken by any append to a partition it asked for, and never outlives its deadline.

import {
  type FetchRequest,
  KafkaErrorCode,
  kafkaApis,
  type FetchResponsePartitionData as PartData,
} from "@spindle/protocol";
import { LIMITS, type TimerHandle } from "../../../lib/index.ts";
import { batchesBelow, type Partition, type Transactions } from "../../../streams/index.ts";
import { kafkaError } from "../error-map.ts";
import { defineHandler, type RequestContext } from "../handler.ts";
import { uuidFromWire } from "../topic-id.ts";

let parked = 0;
const READ_COMMITTED = 1;
const EMPTY = Buffer.alloc(0);

interface Wanted {
  /** the topic's name, or its wire id from v13 on: how the response names it */
  topic: string;
  /** the error for a partition that does not exist */
  missing: number;
  index: number;
  offset: number;
  maxBytes: number;
  partition: Partition | undefined;
  topicId: string;
  /** read_committed: nothing at or past the last stable offset, with the aborted transactions listed */
  committed: boolean;
  txns: Transactions;
}

function wanted(req: FetchRequest, ctx: RequestContext): Wanted[] {
  const out: Wanted[] = [];
  const byId = ctx.version >= 13;
  for (const t of req.topics) {
    const key = (byId ? t.topicId : t.topic) ?? "";
    const topic = byId ? ctx.broker.topics.byId(uuidFromWire(key)) : ctx.broker.topics.get(key);
    const missing =
      byId && topic === undefined
        ? KafkaErrorCode.UNKNOWN_TOPIC_ID
        : KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    for (const p of t.partitions) {
      out.push({
        topic: key,
        missing,
        index: p.partition,
        offset: Number(p.fetchOffset),
        maxBytes: p.partitionMaxBytes,
        partition: topic?.partitions[p.partition],
        topicId: topic?.def.topicId ?? "",
        committed: req.isolationLevel === READ_COMMITTED,
        txns: ctx.broker.transactions,
      });
    }
  }
  return out;
}

function lastStable(w: Wanted, p: Partition): number {
  return w.txns.lastStableOffset(w.topicId, p.index, p.endOffset);
}

function empty(w: Wanted, errorCode: number): PartData {
  const p = w.partition;
  return {
    partitionIndex: w.index,
    errorCode,
    highWatermark: BigInt(p?.endOffset ?? -1),
    lastStableOffset: BigInt(p === undefined ? -1 : lastStable(w, p)),
    logStartOffset: BigInt(p?.startOffset ?? -1),
    abortedTransactions: w.committed ? [] : null,
    preferredReadReplica: -1,
    // Empty, not null: librdkafka rejects a null record set.
    records: EMPTY,
  };
}

/** What one partition answers, and what gives its read's buffer back once nothing uses the records. */
type Read = { part: PartData; release?: (() => void) | undefined };

async function readOne(w: Wanted, budget: number): Promise<Read> {
  const p = w.partition;
  if (p === undefined) return { part: empty(w, w.missing) };
  if (w.offset < p.startOffset || w.offset > p.endOffset)
    return { part: empty(w, KafkaErrorCode.OFFSET_OUT_OF_RANGE) };
  const limit = w.committed ? lastStable(w, p) : p.endOffset;
  if (w.offset >= limit || budget <= 0) return { part: empty(w, KafkaErrorCode.NONE) };
  try {
    // A damaged batch at the offset is answered with the next intact ones (the log reports the damage),
    // as a compacted topic's gap, not with CORRUPT_MESSAGE: on that error kcat exits, librdkafka retries
    // the same offset forever and kafkajs too (silently, failing the whole fetch), so no consumer got past.
    const { data, release } = await p.read(w.offset, Math.max(1, Math.min(w.maxBytes, budget)));
    return { part: answer(w, p, data), release };
  } catch (e) {
    return { part: empty(w, kafkaError(e).code) };
  }
}

/** The partition's answer with the records read (read_committed: those below the last stable offset). */
function answer(w: Wanted, p: Partition, data: Buffer): PartData {
  if (!w.committed) return { ...empty(w, KafkaErrorCode.NONE), records: data };
  // the limit is read again: the read took time, and the LSO only moves forward
  const stable = lastStable(w, p);
  const aborted = w.txns.abortedIn(w.topicId, p.index, w.offset, stable).map((a) => ({
    producerId: BigInt(a.producerId),
    firstOffset: BigInt(a.firstOffset),
  }));
  return {
    ...empty(w, KafkaErrorCode.NONE),
    records: batchesBelow(data, stable),
    abortedTransactions: aborted,
  };
}

interface ReadAll {
  parts: PartData[];
  bytes: number;
  /** whether any partition answered with an error */
  errored: boolean;
  /** gives the reads' buffers back: once the response is written, or at once when it is not sent */
  release: () => void;
}

/** Reads every wanted partition in order within the request's byte budget. */
async function readAll(list: Wanted[], maxBytes: number): Promise<ReadAll> {
  const parts: PartData[] = [];
  const releases: (() => void)[] = [];
  let bytes = 0;
  let errored = false;
  for (const w of list) {
    // The first partition with data gets at least one batch even past max_bytes, as Kafka does.
    const { part, release } = await readOne(w, bytes === 0 ? Math.max(maxBytes, 1) : maxBytes - bytes);
    bytes += part.records?.length ?? 0;
    errored ||= part.errorCode !== KafkaErrorCode.NONE;
    parts.push(part);
    if (release) releases.push(release);
  }
  const releaseAll = () => {
    for (const r of releases.splice(0)) r();
  };
  return { parts, bytes, errored, release: releaseAll };
}

/** Resolves on the first append to any of the partitions, at the deadline, or when the client goes. */
function waitForData(list: Wanted[], waitMs: number, ctx: RequestContext): Promise<void> {
  return new Promise((resolve) => {
    const offs: (() => void)[] = [];
    const { clock } = ctx.broker;
    let timer: TimerHandle | undefined;
    const done = () => {
      clock.clearTimer(timer);
      for (const off of offs) off();
      parked--;
      resolve();
    };
    parked++;
    let fired = false;
    const once = () => {
      if (!fired) {
        fired = true;
        done();
      }
    };
    for (const w of list) if (w.partition) offs.push(w.partition.onAppend(once));
    timer = clock.setTimer(waitMs, once);
    offs.push(ctx.onClose(once));
  });
}

// v13 names topics by id (KIP-516); @platformatic/kafka needs it (its v12 path sends the id as the name).
export const fetchHandler = defineHandler(kafkaApis[1], 4, 13, async (req, ctx) => {
  const list = wanted(req, ctx);
  const maxBytes = req.maxBytes ?? 0x7fffffff;
  const deadline =
    ctx.broker.clock.nowMs() + Math.min(Math.max(req.maxWaitMs, 0), LIMITS.kafkaFetchWaitMsMax);
  let got = await readAll(list, maxBytes);
  while (got.bytes < req.minBytes && !got.errored && parked < LIMITS.kafkaParkedFetchesMax) {
    const left = deadline - ctx.broker.clock.nowMs();
    if (left <= 0) break;
    let gone = false;
    const off = ctx.onClose(() => {
      gone = true;
    });
    await waitForData(list, left, ctx);
    off();
    if (gone) break;
    got.release();
    got = await readAll(list, maxBytes);
  }
  ctx.afterResponse(got.release);
  ctx.broker.traffic.fetchedBytes += got.bytes;
  const byTopic = new Map<string, PartData[]>();
  list.forEach((w, i) => {
    const arr = byTopic.get(w.topic) ?? [];
    arr.push(got.parts[i] as PartData);
    byTopic.set(w.topic, arr);
  });
  return {
    throttleTimeMs: 0,
    errorCode: KafkaErrorCode.NONE,
    sessionId: 0,
    responses: [...byTopic].map(([topic, partitions]) =>
      ctx.version >= 13 ? { topicId: topic, partitions } : { topic, partitions },
    ),
  };
});
