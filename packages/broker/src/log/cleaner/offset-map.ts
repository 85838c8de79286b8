// The cleaner's key map: MD5 of each key → the last offset seen for it, in one fixed buffer (Kafka's
// SkimpyOffsetMap). Invariant: it never grows past the budget it was made with; put() says when it is full.

import { hash } from "node:crypto";

const HASH_BYTES = 16;
/** 16 bytes of hash and an 8-byte offset per slot */
export const OFFSET_MAP_SLOT_BYTES = HASH_BYTES + 8;
/** Slots are filled only to this share, so probes stay short. */
const LOAD_FACTOR = 0.9;

export function keyHash(key: Buffer): Buffer {
  return hash("md5", key, "buffer");
}

export class OffsetMap {
  private readonly hashes: Buffer;
  private readonly offsets: Float64Array;
  readonly slots: number;
  private readonly maxEntries: number;
  private entries = 0;

  /** A map that holds at most `budgetBytes` (at least a few slots, so every pass makes progress). */
  constructor(budgetBytes: number) {
    this.slots = Math.max(4, Math.floor(budgetBytes / OFFSET_MAP_SLOT_BYTES));
    this.maxEntries = Math.max(1, Math.floor(this.slots * LOAD_FACTOR));
    this.hashes = Buffer.alloc(this.slots * HASH_BYTES);
    this.offsets = new Float64Array(this.slots).fill(-1);
  }

  get size(): number {
    return this.entries;
  }

  clear(): void {
    this.offsets.fill(-1);
    this.entries = 0;
  }

  /** Records `offset` as the latest for the key; false (and nothing changed) when a new key does not fit. */
  put(h: Buffer, offset: number): boolean {
    const slot = this.find(h);
    if (this.offsets[slot]! < 0) {
      if (this.entries >= this.maxEntries) return false;
      h.copy(this.hashes, slot * HASH_BYTES, 0, HASH_BYTES);
      this.entries++;
    }
    this.offsets[slot] = offset;
    return true;
  }

  /** The latest offset recorded for the key, or -1. */
  get(h: Buffer): number {
    return this.offsets[this.find(h)]!;
  }

  /** The slot holding `h`, or the empty slot where it would go (linear probing; never full by the load factor). */
  private find(h: Buffer): number {
    let slot = h.readUInt32BE(0) % this.slots;
    for (;;) {
      if (this.offsets[slot]! < 0) return slot;
      if (this.hashes.compare(h, 0, HASH_BYTES, slot * HASH_BYTES, (slot + 1) * HASH_BYTES) === 0)
        return slot;
      slot = slot + 1 === this.slots ? 0 : slot + 1;
    }
  }
}
