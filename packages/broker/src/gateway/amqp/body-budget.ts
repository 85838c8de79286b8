// Bytes of AMQP content bodies being assembled: a body's declared size is checked against what one
// connection and the whole broker may hold before any of its bytes is kept. Invariant: each reservation is
// released exactly once, when its body completes or its channel or connection ends.

import type { MemoryAccount } from "../../lib/index.ts";

/** Shared by every connection of a listener. */
export class BodyBudget {
  declaredBytes = 0;

  constructor(
    readonly connectionBytesMax: number,
    readonly brokerBytesMax: number,
    readonly memory?: MemoryAccount,
  ) {}
}

/** One body being assembled: what it reserved and what has arrived. */
export interface BodyReservation {
  readonly declaredBytes: number;
  receivedBytes: number;
}

/** One connection's bodies in assembly. */
export class ConnectionBodies {
  declaredBytes = 0;
  /** bodies reserved and not yet complete */
  inProgress = 0;

  constructor(
    private readonly budget: BodyBudget,
    /** runs after a body completed or was dropped */
    private readonly onRelease: () => void,
  ) {}

  /** Reserves a body's declared size; the reply text of the refusal when it does not fit. Refusing
   *  (406, the channel closes) rather than waiting: a body that cannot be read further would hold its
   *  bytes while waiting for others' to complete, and those may be on channels behind it. */
  reserve(bodyBytes: number): BodyReservation | string {
    const { budget } = this;
    if (this.declaredBytes + bodyBytes > budget.connectionBytesMax) {
      return `unfinished message bodies on this connection would reach ${this.declaredBytes + bodyBytes} bytes, over the limit of ${budget.connectionBytesMax} (${this.inProgress} unfinished); complete a publish before starting the next`;
    }
    if (budget.declaredBytes + bodyBytes > budget.brokerBytesMax) {
      return `unfinished message bodies on all connections would reach ${budget.declaredBytes + bodyBytes} bytes, over the limit of ${budget.brokerBytesMax}; publish again later`;
    }
    this.declaredBytes += bodyBytes;
    budget.declaredBytes += bodyBytes;
    this.inProgress++;
    return { declaredBytes: bodyBytes, receivedBytes: 0 };
  }

  received(r: BodyReservation, bytes: number): void {
    r.receivedBytes += bytes;
    this.budget.memory?.add("amqpBodies", bytes);
  }

  release(r: BodyReservation): void {
    this.declaredBytes -= r.declaredBytes;
    this.budget.declaredBytes -= r.declaredBytes;
    this.inProgress--;
    this.budget.memory?.add("amqpBodies", -r.receivedBytes);
    this.onRelease();
  }
}
