// A subscription to all events of a store: catch up from a checkpoint in batches, then stay live, woken
// by the store's signal (NOTIFY, a commit, an append in this process) with a poll as the fallback.
// Invariant: the handler sees events in the store's global order, one at a time (or one batch at a
// time), each until it succeeds — a failing event or batch is retried after a backoff, never skipped —
// and the checkpoint moves only past events the handler finished.

import { type Clock, sleep } from "../lib/clock.ts";
import { Waker } from "../lib/waker.ts";
import type {
  EventHandler,
  EventSubscribeOptions,
  EventSubscription,
  ReadAllOptions,
  StoredEvent,
} from "./event-store.ts";

/** What a subscription needs of a store. */
export interface SubscriptionSource {
  readAll(options: ReadAllOptions): Promise<StoredEvent[]>;
  head(): Promise<string>;
  watch(onWake: () => void): { close(): Promise<void> | void };
}

/** Handles a batch as a whole (a projection's transaction): all of it, or it is retried. */
export type BatchHandler = (events: readonly StoredEvent[]) => Promise<void>;

const BACKOFF_MS_MAX = 30_000;

export class CatchUpSubscription implements EventSubscription {
  checkpoint: string | undefined;
  readonly caughtUp: Promise<void>;
  private markCaughtUp!: () => void;
  private closed = false;
  private readonly stop = new AbortController();
  private readonly waker: Waker;
  private readonly watch: { close(): Promise<void> | void };
  private readonly loop: Promise<void>;
  private readonly keepAlive = setInterval(() => {}, 2 ** 30);
  private readonly batchSize: number;
  private readonly pollMs: number;

  constructor(
    private readonly source: SubscriptionSource,
    private readonly handler: EventHandler | { readonly batch: BatchHandler },
    private readonly options: EventSubscribeOptions,
    private readonly clock: Clock,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.pollMs = options.pollMs ?? 1_000;
    this.caughtUp = new Promise((resolve) => {
      this.markCaughtUp = resolve;
    });
    this.waker = new Waker(clock);
    this.watch = source.watch(() => this.waker.wake());
    this.loop = this.run();
  }

  private report(e: unknown, event?: StoredEvent): void {
    if (this.options.onError) this.options.onError(e, event as StoredEvent);
    else console.error(`@spindle/sdk: event subscription${event ? ` at ${event.checkpoint}` : ""}:`, e);
  }

  private async backoff(failures: number): Promise<void> {
    await sleep(this.clock, Math.min(BACKOFF_MS_MAX, 50 * 2 ** Math.min(failures, 16)), this.stop.signal);
  }

  private async start(): Promise<void> {
    const from = this.options.from ?? "start";
    if (from === "start") return;
    if (from !== "end") {
      this.checkpoint = from;
      return;
    }
    for (let failures = 1; !this.closed; failures++) {
      try {
        this.checkpoint = await this.source.head();
        return;
      } catch (e) {
        this.report(e);
        await this.backoff(failures);
      }
    }
  }

  private async run(): Promise<void> {
    await this.start();
    let failures = 0;
    while (!this.closed) {
      this.waker.clear();
      let batch: StoredEvent[];
      try {
        batch = await this.source.readAll({
          ...(this.checkpoint === undefined ? {} : { after: this.checkpoint }),
          limit: this.batchSize,
        });
        failures = 0;
      } catch (e) {
        this.report(e);
        await this.backoff(++failures);
        continue;
      }
      const h = this.handler;
      if (typeof h !== "function") {
        if (batch.length > 0 && !(await this.deliver(batch, () => h.batch(batch)))) return;
        this.checkpoint = batch.at(-1)?.checkpoint ?? this.checkpoint;
      } else {
        for (const event of batch) {
          if (!(await this.deliver(event, () => h(event)))) return;
          this.checkpoint = event.checkpoint;
        }
      }
      if (batch.length < this.batchSize) {
        this.markCaughtUp();
        await this.waker.wait(this.pollMs);
      }
    }
  }

  /** Runs the handler until it succeeds; false when the subscription closed first. */
  private async deliver(what: StoredEvent | readonly StoredEvent[], run: () => unknown): Promise<boolean> {
    for (let failures = 1; !this.closed; failures++) {
      try {
        await run();
        return true;
      } catch (e) {
        this.report(e, "checkpoint" in what ? what : what[0]);
        await this.backoff(failures);
      }
    }
    return false;
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.stop.abort();
      this.waker.wake();
    }
    await this.loop;
    clearInterval(this.keepAlive);
    await this.watch.close();
  }
}
