// Reading a stretch of a queue's log back into messages, with the time each was enqueued.
// Invariant: returns records in offset order and never one below `from`.

import { decodeRecords, readBatchHeader } from "@spindle/protocol";
import type { Log } from "../log/index.ts";
import { fromRecord, type Message } from "./message.ts";

export interface ReadMessage {
  readonly offset: number;
  /** null: the message was settled before it was written (see settledRecord) */
  readonly message: Message | null;
  readonly timestampMs: number;
}

export async function readMessages(
  log: Log,
  from: number,
  maxBytes: number,
): Promise<{ items: ReadMessage[]; nextOffset: number }> {
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
  return { items, nextOffset: Math.max(from, read.nextOffset) };
}
