// Peeking at a queue: its unsettled messages in queue (offset) order, read from its log in bounded pages.
// Invariant: a peek changes nothing — no delivery, no `redelivered` flag, no delivered mark, no read into
// the queue's window — and reads at most LIMITS.queuePeekScanBytesMax of the log per call.

import { LIMITS } from "../lib/index.ts";
import type { Message } from "./message.ts";
import type { Queue } from "./queue.ts";

export interface PeekedMessage {
  /** where it lies in the queue: a later peek can start here */
  readonly position: number;
  /** ready: waiting for delivery; unacked: handed out (or being moved) and not yet settled */
  readonly state: "ready" | "unacked";
  /** the flag its next delivery will carry */
  readonly redelivered: boolean;
  readonly message: Message;
  readonly timestampMs: number;
}

export interface PeekOptions {
  /** the position to start at (a previous answer's `next`); the queue's head when absent */
  readonly from?: number;
  /** messages to return at most (capped at LIMITS.queuePeekMessagesMax) */
  readonly limit: number;
  /** only messages it accepts are returned (the HTTP layer matches body text and header values) */
  readonly match?: (m: Message) => boolean;
  /** how much of the log to read at most (tests make it small) */
  readonly scanBytesMax?: number;
}

export interface PeekPage {
  readonly messages: PeekedMessage[];
  /** where the next page starts, or null when the queue's end (as stored when the peek began) was reached */
  readonly next: number | null;
}

export async function peekMessages(q: Queue, opts: PeekOptions): Promise<PeekPage> {
  const limit = Math.max(0, Math.min(opts.limit, LIMITS.queuePeekMessagesMax));
  const scanMax = opts.scanBytesMax ?? LIMITS.queuePeekScanBytesMax;
  const { from: head, to: end } = q.storedRange;
  const messages: PeekedMessage[] = [];
  let pos = Math.max(opts.from ?? head, head);
  for (let scanned = 0; pos < end && scanned < scanMax; ) {
    const read = await q.readStored(pos, LIMITS.queueReadBytes);
    for (const { offset, message, timestampMs } of read.items) {
      if (offset >= end) return { messages, next: null };
      if (message === null) continue;
      const now = q.inspect(offset, message);
      if (now === null || (opts.match !== undefined && !opts.match(message))) continue;
      if (messages.length >= limit) return { messages, next: offset };
      messages.push({
        position: offset,
        state: now.ready ? "ready" : "unacked",
        redelivered: now.redelivered,
        message,
        timestampMs,
      });
    }
    if (read.nextOffset <= pos) break;
    scanned += read.items.reduce((n, i) => n + (i.message?.body.length ?? 0) + 64, 0);
    pos = read.nextOffset;
  }
  return { messages, next: pos < end ? pos : null };
}
