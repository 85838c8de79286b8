// The in-memory index of an x-delayed-message exchange's held messages: a min-heap of (due, offset) for the
// earliest ones only; the others stay in the log and are found again by a refill (a read of the log).
// Invariant: every held message is in the heap, or has a key above `cutoff` and is counted in `outside`;
// the heap never holds more than 2 × capacity entries, whatever the number of held messages.

import { type Message, messageBytes } from "./message.ts";

export interface DelayEntry {
  /** when the message is due (ms since the epoch) */
  readonly due: number;
  /** where it is in the exchange's log */
  readonly offset: number;
  /** the message itself while a memory budget allows (saves reading it back), else null */
  readonly message: Message | null;
}

const bytesOf = (e: DelayEntry) => (e.message === null ? 0 : messageBytes(e.message));

/** (due, offset) order: by due time, then by arrival. */
export function before(a: DelayEntry, b: DelayEntry): boolean {
  return a.due < b.due || (a.due === b.due && a.offset < b.offset);
}

const compare = (a: DelayEntry, b: DelayEntry) => (before(a, b) ? -1 : before(b, a) ? 1 : 0);

/** Keeps the `capacity` smallest of the entries it is given, in memory bounded by 2 × capacity. */
export class Smallest {
  entries: DelayEntry[] = [];
  /** entries not below it were left out */
  cut: DelayEntry | null = null;
  /** how many were left out */
  over = 0;
  /** bytes of the bodies kept with entries */
  bytes = 0;

  constructor(private readonly capacity: number) {}

  add(e: DelayEntry): void {
    if (this.cut !== null && !before(e, this.cut)) {
      this.over++;
      return;
    }
    this.entries.push(e);
    this.bytes += bytesOf(e);
    if (this.entries.length >= 2 * this.capacity) this.trim();
  }

  /** Sorts and keeps the smallest `capacity`. */
  trim(): void {
    this.entries.sort(compare);
    if (this.entries.length <= this.capacity) return;
    this.over += this.entries.length - this.capacity;
    this.entries.length = this.capacity;
    this.cut = this.entries[this.capacity - 1] as DelayEntry;
    this.bytes = 0;
    for (const e of this.entries) this.bytes += bytesOf(e);
  }
}

export class DelayIndex {
  private heap: DelayEntry[] = [];
  /** entries after it are only in the log (null: every held entry is in the heap) */
  private cutoff: DelayEntry | null = null;
  /** held entries only in the log */
  outside = 0;
  /** bytes of the bodies kept with heap entries */
  bytes = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.heap.length;
  }

  /** The heap is empty and entries wait in the log: read it (refill) before anything else is due. */
  get needsRefill(): boolean {
    return this.heap.length === 0 && this.outside > 0;
  }

  /** A new held message: O(log capacity); it stays only in the log if it comes after the cutoff. */
  add(e: DelayEntry): void {
    if (this.cutoff !== null && !before(e, this.cutoff)) {
      this.outside++;
      return;
    }
    this.heap.push(e);
    this.bytes += bytesOf(e);
    this.siftUp(this.heap.length - 1);
    if (this.heap.length >= 2 * this.capacity) {
      const s = new Smallest(this.capacity);
      s.entries = this.heap;
      s.trim();
      this.heap = s.entries; // sorted, so already a heap
      this.cutoff = s.cut;
      this.outside += s.over;
      this.bytes = s.bytes;
    }
  }

  peek(): DelayEntry | undefined {
    return this.heap[0];
  }

  pop(): DelayEntry | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    this.bytes -= bytesOf(top);
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    } else if (this.outside === 0) this.cutoff = null;
    return top;
  }

  /** Replaces the heap with what a refill found: every held entry not in the heap went through `found`. */
  refilled(found: Smallest): void {
    found.trim();
    this.heap = found.entries;
    this.bytes = found.bytes;
    this.outside = found.over;
    this.cutoff = found.over === 0 ? null : (found.cut ?? (this.heap[this.heap.length - 1] as DelayEntry));
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const e = h[i] as DelayEntry;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as DelayEntry;
      if (!before(e, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = e;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i] as DelayEntry;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && before(h[right] as DelayEntry, h[child] as DelayEntry)) child = right;
      const c = h[child] as DelayEntry;
      if (!before(c, e)) break;
      h[i] = c;
      i = child;
    }
    h[i] = e;
  }
}
