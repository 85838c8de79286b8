// Listing and redriving a dead-letter queue. Redrive sends each chosen message back to the group it
// failed in (not to the topic's other groups), with its retry and dead-letter headers removed, then
// removes it from the queue. Invariants: a message leaves the queue only after its copy is published;
// messages the filter does not pick stay in the queue; at most `ratePerSec` are sent per second.

import type { Clock } from "./lib/clock.ts";
import { type DeadLetter, readDeadLetter, revived } from "./pipeline/dead-letter.ts";
import { rateLimit } from "./pipeline/rate-limit.ts";
import type { Taken, Transport } from "./transports/transport.ts";

export interface RedriveOptions {
  /** Only dead letters it returns true for are sent back; the rest stay. */
  readonly filter?: (deadLetter: DeadLetter) => boolean;
  /** Most messages to send back; default all. */
  readonly limit?: number;
  /** Pace of the sends; default unlimited. */
  readonly ratePerSec?: number;
}

export interface RedriveResult {
  /** Sent back to their groups. */
  readonly redriven: number;
  /** Looked at but left in the queue (the filter said no, or the limit was reached). */
  readonly kept: number;
}

/** How many dead letters one take() asks for. */
const BATCH = 100;

export async function listDeadLetters(
  transport: Transport,
  queue: string,
  limit: number,
): Promise<DeadLetter[]> {
  return (await transport.browse(queue, limit)).map(readDeadLetter);
}

export async function redrive(
  transport: Transport,
  clock: Clock,
  queue: string,
  o: RedriveOptions = {},
): Promise<RedriveResult> {
  const limit = o.limit ?? Number.POSITIVE_INFINITY;
  const limiter =
    o.ratePerSec === undefined
      ? undefined
      : rateLimit.tokenBucket(clock, { ratePerSec: o.ratePerSec, burst: 1 });
  // the ones left in the queue are released only at the end, so a take() never returns them again
  const keep: Taken[] = [];
  let redriven = 0;
  try {
    for (;;) {
      const batch = await transport.take(queue, BATCH);
      if (batch.length === 0) break;
      for (const t of batch) {
        const d = readDeadLetter(t.message);
        if (redriven >= limit || (o.filter !== undefined && !o.filter(d)) || d.topic === "") {
          keep.push(t);
          continue;
        }
        await limiter?.acquire();
        await transport.publish(d.topic, revived(t.message), d.group === "" ? {} : { group: d.group });
        await t.ack();
        redriven++;
      }
      if (batch.length < BATCH) break;
    }
  } finally {
    // last first: a transport that puts a released message back at the head keeps the queue's order
    for (const t of keep.reverse()) await t.release();
  }
  return { redriven, kept: keep.length };
}
