// What went wrong under a queue with no client to tell (failed reads and trims, messages lost to damage):
// counted for /metrics and said once each in the log. Invariant: every count rises with exactly one log line.

import type { Logger } from "../lib/index.ts";
import type { LostRange } from "./queue-reader.ts";

/** What went wrong under a queue without a client to tell: a later /metrics reads these. */
export interface QueueFaults {
  /** messages skipped because the log found them damaged */
  lostMessages: number;
  /** reads from the log that failed (the read is tried again on the next delivery attempt) */
  readErrors: number;
  /** trims of settled segments that failed (tried again after the next settles) */
  trimErrors: number;
}

export class FaultReporter {
  readonly counts: QueueFaults = { lostMessages: 0, readErrors: 0, trimErrors: 0 };

  constructor(
    private readonly queue: string,
    private readonly logger: Logger,
  ) {}

  /** A read from the log failed (an I/O error: damage is skipped by the log); the queue tries again on
   *  the next delivery attempt. */
  readFailed(e: unknown): void {
    this.counts.readErrors++;
    this.logger.error(
      { queue: this.queue, err: e, readErrors: this.counts.readErrors },
      `queue ${this.queue}: reading messages from its log failed; retried on the next delivery attempt`,
    );
  }

  /** Deleting settled segments failed; the queue tries again after `settlesLater` more settles. */
  trimFailed(e: unknown, settlesLater: number): void {
    this.counts.trimErrors++;
    this.logger.error(
      { queue: this.queue, err: e, trimErrors: this.counts.trimErrors },
      `queue ${this.queue}: deleting settled segments failed; tried again after ${settlesLater} more settles`,
    );
  }

  /** `n` messages in `range` were skipped by the log as damaged (the queue settled them). */
  lost(range: LostRange, n: number): void {
    this.counts.lostMessages += n;
    this.logger.error(
      {
        queue: this.queue,
        fromOffset: range.from,
        toOffset: range.to,
        lost: n,
        lostMessages: this.counts.lostMessages,
      },
      `queue ${this.queue} lost ${n} messages (offsets ${range.from} to ${range.to - 1}) to damage in its log; delivery goes on after them`,
    );
  }
}
