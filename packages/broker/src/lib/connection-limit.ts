// The broker-wide cap on client connections (AMQP, Kafka and HTTP together), derived from the fd budget.
// Invariant: at most `max` admitted connections are open at once; refusals are logged once per burst.

import { Burst } from "./burst.ts";
import type { Clock } from "./clock.ts";
import { LIMITS } from "./limits.ts";
import type { Logger } from "./logger.ts";

/** accept: serve it; refuse: tell the client politely, per protocol; drop: close it at once. */
export type Admission = "accept" | "refuse" | "drop";

/** The part of a socket the limit needs: hearing that it closed. */
export interface Closable {
  once(event: "close", listener: () => void): unknown;
}

export interface ConnectionLimitOptions {
  readonly max: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** what an operator changes to allow more, e.g. "raise --max-connections (…)" */
  readonly hint: string;
}

export class ConnectionLimit {
  private open = 0;
  private refusing = 0;
  private readonly burst: Burst;

  constructor(private readonly opts: ConnectionLimitOptions) {
    this.burst = new Burst(opts.clock);
  }

  get max(): number {
    return this.opts.max;
  }

  get openCount(): number {
    return this.open;
  }

  /** Decides for a new socket; an admitted or refusing one holds its place until it closes. */
  admit(socket: Closable, protocol: string): Admission {
    if (this.open < this.opts.max) {
      this.open++;
      socket.once("close", () => this.open--);
      return "accept";
    }
    this.noteRefusal(protocol);
    // A polite refusal holds a descriptor through the client's handshake: only a few at a time.
    if (this.refusing >= LIMITS.refusingConnectionsMax) return "drop";
    this.refusing++;
    socket.once("close", () => this.refusing--);
    return "refuse";
  }

  private noteRefusal(protocol: string): void {
    if (!this.burst.hit()) return;
    this.opts.logger.warn(
      { max: this.opts.max, protocol, refusedInPreviousBurst: this.burst.previousCount },
      `connection limit (${this.opts.max}) reached: refusing new connections until some close; ${this.opts.hint}`,
    );
  }
}
