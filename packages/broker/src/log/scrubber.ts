// Verifies every log's sealed segments in the background after start, one log at a time, at a bounded rate.
// Invariant: on average never more than `bytesPerSec` is read; damage found is reported and skipped as a read's is.

import type { Clock, Logger } from "../lib/index.ts";

/** A log whose sealed segments the scrubber verifies, a step at a time. */
export interface Scrubbable {
  /** Verifies up to about `maxBytes` more (whole batches); returns the bytes checked, 0 once all are. */
  scrubStep(maxBytes: number): Promise<number>;
  /** named in a log line when a step fails */
  readonly dir: string;
}

export interface ScrubberOptions {
  clock: Clock;
  logger: Logger;
  /** average read rate; 0 turns verification off */
  bytesPerSec: number;
  /** how long after start verification begins, so that start-up is not slowed */
  startDelayMs: number;
}

/** Bytes verified between two looks at the clock. */
const STEP_BYTES = 1 << 20;

export class Scrubber {
  private readonly waiting: Scrubbable[] = [];
  private readonly stopping = new AbortController();
  private started = false;
  private running: Promise<void> | null = null;
  /** when pacing started, and the bytes verified since */
  private since = 0;
  private bytes = 0;

  constructor(private readonly opts: ScrubberOptions) {}

  /** Queues a log for one pass over its sealed segments. */
  add(log: Scrubbable): void {
    if (this.opts.bytesPerSec <= 0 || this.stopping.signal.aborted) return;
    this.waiting.push(log);
    if (this.started) this.kick();
  }

  /** A closed log is dropped (a step in progress ends first: the log waits for it). */
  remove(log: Scrubbable): void {
    const i = this.waiting.indexOf(log);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  /** Begins after the start delay; logs added later are verified as they come. */
  start(): void {
    if (this.started || this.opts.bytesPerSec <= 0) return;
    this.started = true;
    this.running = (async () => {
      await this.sleep(this.opts.startDelayMs);
      await this.run();
    })();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.waiting.length = 0;
    await this.running;
  }

  /** Resolves once every queued log has been verified (or the scrubber stopped). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private kick(): void {
    if (this.running !== null) return;
    this.running = this.run();
  }

  private async run(): Promise<void> {
    this.since = this.opts.clock.nowMs();
    this.bytes = 0;
    try {
      while (!this.stopping.signal.aborted && this.waiting.length > 0) {
        const log = this.waiting[0]!;
        const n = await log.scrubStep(STEP_BYTES).catch((err: unknown) => {
          this.opts.logger.error(
            { dir: log.dir, err },
            "verifying a log's sealed segments failed; it is skipped",
          );
          return 0;
        });
        if (n === 0) this.remove(log);
        else await this.pace(n);
      }
    } finally {
      this.running = null;
    }
  }

  /** Sleeps until `bytesPerSec` allows the bytes verified so far. */
  private async pace(n: number): Promise<void> {
    this.bytes += n;
    const due = this.since + (this.bytes / this.opts.bytesPerSec) * 1000;
    const wait = due - this.opts.clock.nowMs();
    if (wait > 0) await this.sleep(wait);
  }

  /** Waits on the clock's timer (unref'd on the system clock); `stop()` cuts a wait short. */
  private sleep(ms: number): Promise<void> {
    const { clock } = this.opts;
    const signal = this.stopping.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = clock.setTimer(ms, resolve);
      signal.addEventListener("abort", () => {
        clock.clearTimer(timer);
        resolve();
      });
    });
  }
}
