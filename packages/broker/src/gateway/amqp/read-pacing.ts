// Two reasons a connection stops reading its socket for a while, apart from resource alarms: credit flow
// (publishes not yet stored) and a turn's input budget. Invariant: each calls `changed` exactly when the
// answer of its `paused` flips, and the connection then pauses or resumes its socket.

import { LIMITS, type MemoryAccount } from "../../lib/index.ts";

/** Credit flow: a publisher faster than the disk is slowed by not reading its socket. Publishes that
 *  share a `stored` promise (one append batch) are released together, with one callback. */
export class UnstoredCredit {
  /** body bytes published on this connection and not yet stored; reading pauses above the limit */
  private unstoredBytes = 0;
  /** reading paused until unstoredBytes is back to half the limit */
  paused = false;
  private last: { readonly stored: Promise<unknown>; bytes: number } = {
    stored: Promise.resolve(),
    bytes: 0,
  };

  constructor(
    private readonly memory: MemoryAccount | undefined,
    private readonly changed: () => void,
  ) {}

  track(bytes: number, stored: Promise<unknown>): void {
    this.unstoredBytes += bytes;
    this.memory?.add("amqpUnstored", bytes);
    if (this.unstoredBytes > LIMITS.amqpUnstoredBytesMax && !this.paused) {
      this.paused = true;
      this.changed();
    }
    if (stored === this.last.stored) {
      this.last.bytes += bytes;
      return;
    }
    const entry = { stored, bytes };
    this.last = entry;
    const release = () => {
      this.unstoredBytes -= entry.bytes;
      this.memory?.add("amqpUnstored", -entry.bytes);
      if (this.paused && this.unstoredBytes <= LIMITS.amqpUnstoredBytesMax / 2) {
        this.paused = false;
        this.changed();
      }
    };
    stored.then(release, release);
  }
}

/** A turn that read LIMITS.amqpTurnInputBytesMax from this connection lets the others go first: libuv reads
 *  up to 2 MiB from one socket per turn, and a publisher's 2 MiB kept consumers' acks (and so their next
 *  deliveries) waiting for tens of milliseconds. */
export class TurnBudget {
  /** bytes read in this event-loop turn */
  private turnBytes = 0;
  /** reading waits for the next turn */
  paused = false;

  constructor(private readonly changed: () => void) {}

  count(n: number): void {
    if (this.turnBytes === 0) {
      setImmediate(() => {
        this.turnBytes = 0;
        if (this.paused) {
          this.paused = false;
          this.changed();
        }
      });
    }
    this.turnBytes += n;
    if (this.turnBytes >= LIMITS.amqpTurnInputBytesMax && !this.paused) {
      this.paused = true;
      this.changed();
    }
  }
}
