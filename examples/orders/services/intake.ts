// The partner feed intake: orders a partner system publishes as raw JSON text, placed like HTTP orders.
// A malformed body is the seeds' poison message: the parse fails, the SDK retries it 3 times with
// exponential backoff and moves it to the dead-letter queue, where it waits (never blocking the feed)
// until the parser is fixed and the queue is redriven.

import { type Bus, retry, type Subscription } from "@spindle/sdk";
import type { OrderService } from "../orders.ts";
import { parseOrderInput } from "../orders.ts";

export interface Intake {
  readonly subscription: Subscription;
  /** When each parse attempt failed (epoch ms): the retry policy's backoff shows in the gaps. */
  readonly failures: readonly number[];
  /** The fix: accept the partner's trailing commas (the bug the dead letter showed). */
  acceptTrailingCommas(): void;
}

export async function startIntake(bus: Bus, orders: OrderService, topic: string): Promise<Intake> {
  let lenient = false;
  const failures: number[] = [];
  const subscription = await bus.subscribe(
    topic,
    {
      group: "intake",
      // 1 try + 3 retries, 100 → 200 → 400 ms apart (the seeds' poison message: 3 retries, then the DLQ)
      retry: retry.exponential({ attempts: 4, initialMs: 100, maxMs: 1_000, jitter: "none" }),
      deadLetter: `${topic}.intake.dlq`,
    },
    async (msg) => {
      const text = String(msg.data);
      let body: unknown;
      try {
        body = JSON.parse(lenient ? text.replace(/,\s*([}\]])/gu, "$1") : text);
      } catch (e) {
        failures.push(Date.now());
        throw e;
      }
      const input = parseOrderInput(body);
      // the partner's message id names the order: a redelivery or a redrive places it once
      const id = `ord-partner-${msg.id}`;
      if ((await orders.get(id)) === undefined) await orders.place(input, id);
    },
  );
  return {
    subscription,
    failures,
    acceptTrailingCommas: () => {
      lenient = true;
    },
  };
}
