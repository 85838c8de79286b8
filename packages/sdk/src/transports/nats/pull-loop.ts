// One JetStream pull consumer read the way the seeds describe: ask for as many messages as there are
// free slots, hand them out, ask again as slots free up. Invariant: at most `slots.max` deliveries of a
// subscription (across its consumers) are unsettled at once; a paused or closed loop asks for nothing.

import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import type { Clock } from "../../lib/clock.ts";
import { sleep } from "../../lib/clock.ts";
import { backoffMs } from "../backoff.ts";

/** How long one pull waits at the server for messages (a long poll; closing stops it at once). */
const PULL_EXPIRES_MS = 5_000;

/** The unsettled deliveries a subscription holds, shared by its pull loops. */
export class Slots {
  used = 0;
  paused = false;
  private waiters: (() => void)[] = [];

  constructor(readonly max: number) {}

  get free(): number {
    return this.paused ? 0 : this.max - this.used;
  }

  release(): void {
    this.used--;
    this.wake();
  }

  wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once a slot is free (or `stop` aborts). */
  async waitFree(stop: AbortSignal): Promise<void> {
    while (this.free <= 0 && !stop.aborted) {
      await new Promise<void>((resolve) => {
        // the listener goes when a slot frees: left behind, every wait added one to the loop's signal
        const onAbort = () => resolve();
        this.waiters.push(() => {
          stop.removeEventListener("abort", onAbort);
          resolve();
        });
        stop.addEventListener("abort", onAbort, { once: true });
      });
    }
  }
}

export class PullLoop {
  private pulling: ConsumerMessages | undefined;
  private readonly stop = new AbortController();
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly consumer: () => Promise<Consumer>,
    private readonly slots: Slots,
    private readonly clock: Clock,
    /** Takes the message (and a slot, unless it is a delayed copy not due yet). */
    private readonly onMessage: (m: JsMsg) => void,
  ) {}

  start(): void {
    this.done = this.run();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stop.signal.aborted) {
      await this.slots.waitFree(this.stop.signal);
      if (this.stop.signal.aborted) break;
      try {
        const c = await this.consumer();
        this.pulling = await c.fetch({ max_messages: this.slots.free, expires: PULL_EXPIRES_MS });
        for await (const m of this.pulling) this.onMessage(m);
        failures = 0;
      } catch {
        // disconnected, or the consumer is gone (recreated by consumer()): back off and pull again
        if (!this.stop.signal.aborted) await sleep(this.clock, backoffMs(failures++), this.stop.signal);
      } finally {
        this.pulling = undefined;
      }
    }
  }

  async close(): Promise<void> {
    this.stop.abort();
    this.pulling?.stop();
    await this.done;
  }
}
