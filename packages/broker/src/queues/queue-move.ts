// Moving ready messages from one queue to another (a dead-letter queue's redrive), oldest first, in bounded
// batches. Invariant: a message is settled in the source only once the destination has it stored (under
// the fsync policy), so a crash in the middle can duplicate messages but never lose one; while it is being
// moved no consumer of the source gets it; its properties and headers (x-death) are kept byte for byte.

import { BrokerError, LIMITS } from "../lib/index.ts";
import type { Message, QueuedMessage } from "./message.ts";
import { type Queue, REJECTED } from "./queue.ts";
import { VHOST } from "./vhost.ts";

export interface MoveProgress {
  readonly moved: number;
  /** the ready messages there were when the move began (or `count`, if smaller): with a filter, an upper
   *  bound; never below `moved` */
  readonly total: number;
}

export interface MoveOptions {
  /** move at most this many */
  readonly count?: number;
  /** only messages it accepts are moved (the HTTP layer matches body text and header values) */
  readonly match?: (m: Message) => boolean;
  /** once at the start (moved 0), then after each batch is settled in the source */
  readonly onProgress?: (p: MoveProgress) => void;
  readonly batchMessages?: number;
  readonly batchBytesMax?: number;
}

/** Moves the ready messages the source held when the move began (messages stored later stay: a source
 *  that keeps being published to would never be done). Resolves with how many were moved; rejects when the
 *  destination refuses a message or either queue goes away, after settling what it had stored. */
export async function moveMessages(
  source: Queue,
  destination: Queue,
  opts: MoveOptions = {},
): Promise<MoveProgress> {
  if (source === destination) {
    throw new BrokerError("INVALID_REQUEST", `cannot move messages of queue '${source.name}' to itself`);
  }
  const limit = opts.count ?? Number.POSITIVE_INFINITY;
  const batchMax = opts.batchMessages ?? LIMITS.queueMoveBatchMessages;
  const bytesMax = opts.batchBytesMax ?? LIMITS.queueMoveBatchBytesMax;
  const { from, to: end } = source.storedRange;
  let total = Math.min(limit, source.messageCount);
  let moved = 0;
  let batch: QueuedMessage[] = [];
  let bytes = 0;
  const flush = async (): Promise<void> => {
    const taken = batch;
    batch = [];
    bytes = 0;
    const r = await store(source, destination, taken);
    moved += r.moved;
    total = Math.max(total, moved);
    opts.onProgress?.({ moved, total });
    if (r.refused) {
      throw new BrokerError(
        "PRECONDITION_FAILED",
        `queue '${destination.name}' in vhost '${VHOST}' refused a message (x-max-length with x-overflow reject-publish) after ${moved} were moved`,
      );
    }
  };
  opts.onProgress?.({ moved, total });
  try {
    for (let pos = from; pos < end && moved + batch.length < limit; ) {
      gone(source, destination);
      const read = await source.readStored(pos, LIMITS.queueReadBytes);
      for (const { offset, message, timestampMs } of read.items) {
        if (offset >= end || moved + batch.length >= limit) break;
        if (message === null || (opts.match !== undefined && !opts.match(message))) continue;
        const qm = source.claim(offset, message, timestampMs);
        if (qm === null) continue;
        batch.push(qm);
        bytes += qm.message.body.length;
        if (batch.length >= batchMax || bytes >= bytesMax) await flush();
      }
      if (read.nextOffset <= pos) break;
      pos = read.nextOffset;
    }
    if (batch.length > 0) await flush();
  } catch (e) {
    for (const qm of batch) source.unclaim(qm);
    throw e;
  }
  return { moved, total };
}

/** Enqueues `taken` into the destination, waits until it is stored, then settles it in the source; gives
 *  back what did not get there (from the first message the destination refused on). */
async function store(
  source: Queue,
  destination: Queue,
  taken: QueuedMessage[],
): Promise<{ moved: number; refused: boolean }> {
  const stored: Promise<void>[] = [];
  let refusedAt = -1;
  for (let i = 0; i < taken.length && refusedAt < 0; i++) {
    const r = destination.enqueue((taken[i] as QueuedMessage).message);
    if (r === REJECTED) refusedAt = i;
    else stored.push(r);
  }
  const sent = refusedAt < 0 ? taken : taken.slice(0, refusedAt);
  for (const qm of taken.slice(sent.length)) source.unclaim(qm);
  try {
    await Promise.all(stored);
    gone(source, destination);
  } catch (e) {
    // some may be in the destination already: given back, they are there twice, which is allowed
    for (const qm of sent) source.unclaim(qm);
    throw e;
  }
  for (const qm of sent) source.settleMoved(qm);
  return { moved: sent.length, refused: refusedAt >= 0 };
}

/** Throws if either queue was deleted (an enqueue into a deleted queue stores nothing). */
function gone(source: Queue, destination: Queue): void {
  for (const q of [source, destination])
    if (q.deleted)
      throw new BrokerError("NOT_FOUND", `queue '${q.name}' in vhost '${VHOST}' was deleted during the move`);
}
