// The bytes of Kafka request frames the broker holds across all connections: a frame's declared size is
// reserved before its body is read and released once its response is sent. Invariant: a grant never takes
// the total above maxBytes nor a connection above its share (except a connection's first frame, which a
// share always fits); waiters are granted in arrival order among those that fit, so small requests get
// through while a big one waits for room.

import type { MemoryAccount } from "../../lib/index.ts";

interface Waiter {
  readonly owner: object;
  readonly bytes: number;
  readonly grant: () => void;
}

export class RequestBudget {
  heldBytes = 0;
  private readonly held = new Map<object, number>();
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly maxBytes: number,
    /** what one connection may hold; at least the largest frame, which a connection holding nothing may take */
    readonly shareBytes: number,
    private readonly memory?: MemoryAccount,
  ) {}

  private fits(owner: object, bytes: number): boolean {
    const mine = this.held.get(owner) ?? 0;
    return (mine === 0 || mine + bytes <= this.shareBytes) && this.heldBytes + bytes <= this.maxBytes;
  }

  /** Reserves `bytes` for `owner` at once if they fit (returns true); else `grant` is called once they do. */
  take(owner: object, bytes: number, grant: () => void): boolean {
    // every waiter that fits was granted at the last release: one that fits now may go ahead of them
    if (this.fits(owner, bytes)) {
      this.charge(owner, bytes);
      return true;
    }
    this.waiting.push({ owner, bytes, grant });
    return false;
  }

  /** Counts bytes already read (frames that arrived whole in one read): they cannot wait any more. */
  charge(owner: object, bytes: number): void {
    this.held.set(owner, (this.held.get(owner) ?? 0) + bytes);
    this.heldBytes += bytes;
    this.memory?.add("kafkaRequests", bytes);
  }

  release(owner: object, bytes: number): void {
    if (bytes === 0) return;
    const left = (this.held.get(owner) ?? 0) - bytes;
    if (left > 0) this.held.set(owner, left);
    else this.held.delete(owner);
    this.heldBytes -= bytes;
    this.memory?.add("kafkaRequests", -bytes);
    this.grantWaiting();
  }

  /** The connection is gone: its wait ends and what it held is released. */
  drop(owner: object): void {
    const i = this.waiting.findIndex((w) => w.owner === owner);
    if (i >= 0) this.waiting.splice(i, 1);
    this.release(owner, this.held.get(owner) ?? 0);
  }

  private grantWaiting(): void {
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i] as Waiter;
      if (!this.fits(w.owner, w.bytes)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.charge(w.owner, w.bytes);
      w.grant();
    }
  }
}
