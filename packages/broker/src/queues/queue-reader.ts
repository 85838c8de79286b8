// Reading a stretch of a queue's log back into messages, with the time each was enqueued.
// Invariant: returns records in offset order and never one below `from`; offsets the log skipped as
// damaged are named in `lost`, so that no offset is silently neither read nor lost.

import { decodeRecords, readBatchHeader } from "@spindle/protocol";
import type { Log } from "../log/index.ts";
import { batchFacts, fromRecord, type Message, type MessageFacts } from "./message.ts";

export interface ReadMessage {
  readonly offset: number;
  /** null: the message was settled before it was written (see settledRecord) */
  readonly message: Message | null;
  readonly timestampMs: number;
}

/** Offsets [from, to) lost to damage in the log. */
export interface LostRange {
  readonly from: number;
  readonly to: number;
}

export async function readMessages(
  log: Log,
  from: number,
  maxBytes: number,
): Promise<{ items: ReadMessage[]; nextOffset: number; lost: LostRange | null }> {
  const read = await log.read(from, maxBytes);
  const items: ReadMessage[] = [];
  for (let pos = 0; pos < read.data.length; ) {
    const h = readBatchHeader(read.data, pos);
    const size = h.batchLength + 12;
    for (const r of decodeRecords(read.data.subarray(pos, pos + size))) {
      const offset = h.baseOffset + r.offsetDelta;
      if (offset >= from)
        items.push({ offset, message: fromRecord(r), timestampMs: h.baseTimestamp + r.timestampDelta });
    }
    pos += size;
  }
  const nextOffset = Math.max(from, read.nextOffset);
  // the log skips damaged batches: whatever lies between `from` and the first record it returned is gone
  const firstRead = items[0]?.offset ?? nextOffset;
  return { items, nextOffset, lost: firstRead > from ? { from, to: firstRead } : null };
}

/** The facts of the records in a stretch of a queue's log (a restart's read-through), in offset order. */
export async function readFacts(
  log: Log,
  from: number,
  maxBytes: number,
): Promise<{ items: MessageFacts[]; nextOffset: number }> {
  const read = await log.read(from, maxBytes);
  const items: MessageFacts[] = [];
  for (let pos = 0; pos < read.data.length; ) {
    const size = readBatchHeader(read.data, pos).batchLength + 12;
    batchFacts(read.data.subarray(pos, pos + size), from, items);
    pos += size;
  }
  return { items, nextOffset: Math.max(from, read.nextOffset) };
}
