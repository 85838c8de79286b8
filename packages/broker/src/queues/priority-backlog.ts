// The ready messages of an x-max-priority queue that are still only in its log: how many of each priority
// and from where to look for them, so that a higher priority behind the in-memory window is fetched before a
// lower one in the window is delivered (RabbitMQ delivers strictly by priority across the whole queue).
// Invariant: unread[p] counts the unsettled priority-p messages at or above the queue's read cursor that are
// not in memory, and none of them is below firstUnread[p]; `ahead` holds the offsets at or above the cursor
// that were taken into memory out of order, until the cursor passes them.

import { LIMITS } from "../lib/index.ts";
import type { Log } from "../log/index.ts";
import { type Message, priorityLane } from "./message.ts";
import { type ReadMessage, readMessages } from "./queue-reader.ts";

export type TakenMessage = ReadMessage & { readonly message: Message };

export class PriorityBacklog {
  private readonly unread: number[];
  private readonly firstUnread: number[];
  private unreadTotal = 0;
  /** offsets at or above the read cursor already taken into memory (delivered, settled or still ready) */
  readonly ahead = new Set<number>();

  constructor(private readonly maxPriority: number) {
    this.unread = new Array<number>(maxPriority + 1).fill(0);
    this.firstUnread = new Array<number>(maxPriority + 1).fill(0);
  }

  /** A ready message at `offset` stays in the log for now (the window was full, or a read was under way),
   *  or is back there (a move gave it back: it may lie below the lane's first unread one). */
  left(offset: number, m: { readonly priority: number }): void {
    const lane = priorityLane(m, this.maxPriority);
    if (this.unread[lane] === 0 || offset < (this.firstUnread[lane] as number))
      this.firstUnread[lane] = offset;
    this.unread[lane] = (this.unread[lane] as number) + 1;
    this.unreadTotal++;
  }

  /** One of the messages counted by left() was read into memory (by the cursor or a lane read). */
  fetched(m: Message): void {
    const lane = priorityLane(m, this.maxPriority);
    if ((this.unread[lane] as number) === 0) return;
    this.unread[lane] = (this.unread[lane] as number) - 1;
    this.unreadTotal--;
  }

  /** The highest lane with messages in the log, or -1. */
  highestUnread(): number {
    if (this.unreadTotal === 0) return -1;
    for (let p = this.maxPriority; p >= 0; p--) if ((this.unread[p] as number) > 0) return p;
    return -1;
  }

  /** Where the next read for `lane` starts. */
  fetchFrom(lane: number, cursor: number): number {
    return Math.max(this.firstUnread[lane] as number, cursor);
  }

  /** Every message of `lane` below `offset` has been taken; `end`: the read reached the queue's end, so
   *  none is left in the log. */
  private scannedTo(lane: number, offset: number, end: boolean): void {
    this.firstUnread[lane] = offset;
    if (end) {
      this.unreadTotal -= this.unread[lane] as number;
      this.unread[lane] = 0;
    }
  }

  /** Reads on from where `lane`'s messages wait (at or above `cursor`), taking those `usable` says are
   *  ready; they are ahead of the cursor from now on. `end()`: the offset the next enqueued message gets
   *  (asked after the read: messages enqueued during it are counted by left()). */
  async readLane(
    log: Log,
    lane: number,
    cursor: number,
    end: () => number,
    usable: (offset: number, m: Message | null) => m is Message,
  ): Promise<TakenMessage[]> {
    const read = await readMessages(log, this.fetchFrom(lane, cursor), LIMITS.queueReadBytes);
    const taken: TakenMessage[] = [];
    for (const { offset, message, timestampMs } of read.items) {
      if (offset < cursor || this.ahead.has(offset) || !usable(offset, message)) continue;
      if (priorityLane(message, this.maxPriority) !== lane) continue;
      this.ahead.add(offset);
      this.fetched(message);
      taken.push({ offset, message, timestampMs });
    }
    this.scannedTo(lane, read.nextOffset, read.nextOffset >= end());
    return taken;
  }

  /** Purged: nothing is left in the log. */
  clear(): void {
    this.unread.fill(0);
    this.unreadTotal = 0;
    this.ahead.clear();
  }
}
