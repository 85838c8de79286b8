// Resource alarms as in RabbitMQ: free disk space on the data dir's filesystem, sampled every second and
// again as soon as the bytes written since the last sample could have taken it below the limit, and
// memory: what the broker accounts for itself (MemoryAccount), with RSS as a secondary guard. Invariant:
// onChange hears only changes of the reason (null = no alarm), and each alarm's set and clear is logged once.

import { statfs } from "node:fs/promises";
import { totalmem } from "node:os";
import type { ResourceReadings } from "../gateway/http/index.ts";
import type { Logger, MemoryAccount } from "../lib/index.ts";

/** What the monitor measures; injected so tests can drive set → clear transitions. */
export interface ResourceProbes {
  diskFreeBytes(): Promise<number>;
  rssBytes(): number;
}

export type ResourceAlarmsOptions = {
  readonly diskFreeLimitBytes: number;
  readonly memoryHighWatermarkBytes: number;
  /** the bytes the broker holds (queue windows, unfinished requests and bodies, outboxes) */
  readonly memory: MemoryAccount;
  readonly probes: ResourceProbes;
  readonly logger: Logger;
  /** "low on disk", "low on memory" or "low on memory & disk" while publishing must stop; null after */
  readonly onChange: (reason: string | null) => void;
  readonly intervalMs?: number;
};

const INTERVAL_MS = 1000;

/** Free bytes an unprivileged process may use, as `df` shows them. */
export function systemProbes(dataDir: string): ResourceProbes {
  return {
    async diskFreeBytes() {
      const s = await statfs(dataDir);
      return s.bavail * s.bsize;
    },
    rssBytes: () => process.memoryUsage.rss(),
  };
}

/** The memory a relative watermark is a fraction of: the cgroup limit when there is one, else total RAM. */
export function availableMemoryBytes(): number {
  const total = totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < total ? constrained : total;
}

/** The memory alarm's rule. RSS alone cannot be it: the allocator keeps freed memory, so RSS stays up for
 *  minutes after a burst is drained. What the broker accounts for falls as soon as it is released; RSS
 *  above the watermark (memory the accounting misses) only halves how much of it is allowed. */
export function memoryHigh(accountedBytes: number, rssBytes: number, watermarkBytes: number): boolean {
  return (
    accountedBytes > watermarkBytes || (rssBytes > watermarkBytes && accountedBytes > watermarkBytes / 2)
  );
}

export class ResourceAlarms {
  private disk = false;
  private memory = false;
  /** the reason onChange last heard */
  private reported: string | null = null;
  private diskUnknownLogged = false;
  private rssUnknownLogged = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  /** free disk at the last sample (unknown before the first), and bytes written to the data dir since */
  private lastFreeBytes = Number.POSITIVE_INFINITY;
  private writtenBytes = 0;

  constructor(private readonly opts: ResourceAlarmsOptions) {
    // a burst can pass the watermark well within a sampling interval: check memory as it rises
    const w = opts.memoryHighWatermarkBytes;
    for (const level of [w / 2, w]) opts.memory.watch(level, () => this.checkMemory());
  }

  /** What the alarms are judged against, for /metrics. */
  get readings(): ResourceReadings {
    return {
      memoryLimitBytes: this.opts.memoryHighWatermarkBytes,
      diskFreeLimitBytes: this.opts.diskFreeLimitBytes,
      diskFreeBytes:
        Number.isFinite(this.lastFreeBytes) && !this.diskUnknownLogged ? this.lastFreeBytes : null,
    };
  }

  /** The reason publishing is blocked, in RabbitMQ's words, or null when no alarm is on. */
  get reason(): string | null {
    const low = [this.memory && "memory", this.disk && "disk"].filter((r) => r !== false);
    return low.length === 0 ? null : `low on ${low.join(" & ")}`;
  }

  /**
   * Counts a write to the data dir. A fast publisher filled a disk 88 ms before the once-a-second sample
   * noticed; here the alarm is checked as soon as the writes since the last sample could have taken free
   * space below the limit (no statfs per write: one per `free - limit` bytes written, at most one at a time).
   */
  noteWritten(bytes: number): void {
    this.writtenBytes += bytes;
    const limit = this.opts.diskFreeLimitBytes;
    if (!this.disk && limit > 0 && this.lastFreeBytes - this.writtenBytes < limit) void this.check();
  }

  /** Samples once and applies the result; a check already running is joined, not repeated. */
  check(): Promise<void> {
    this.inFlight ??= this.sample().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Checks every second until stop(); the timer never keeps the process alive. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs ?? INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Applies the memory rule now, without waiting for the next sample. */
  private checkMemory(): void {
    if (this.stopped) return;
    this.updateMemory();
    this.report();
  }

  private report(): void {
    const reason = this.reason;
    if (reason === this.reported) return;
    this.reported = reason;
    this.opts.onChange(reason);
  }

  private updateMemory(): void {
    const rss = this.rssOrZero();
    const accounted = this.opts.memory.totalBytes;
    this.setMemory(memoryHigh(accounted, rss, this.opts.memoryHighWatermarkBytes), rss, accounted);
  }

  /** RSS is read from /proc, which takes a file descriptor: with none left (EMFILE) the alarm follows
   *  accounted memory alone (this also runs from a microtask, where a throw would end the process). */
  private rssOrZero(): number {
    try {
      const rss = this.opts.probes.rssBytes();
      this.rssUnknownLogged = false;
      return rss;
    } catch (err) {
      if (!this.rssUnknownLogged) {
        this.opts.logger.warn(
          { err },
          "cannot read the process's RSS; the memory alarm follows accounted memory alone",
        );
      }
      this.rssUnknownLogged = true;
      return 0;
    }
  }

  private async sample(): Promise<void> {
    const { opts } = this;
    this.updateMemory();
    try {
      // writes during the statfs count towards the next estimate too: it errs on the low side
      this.writtenBytes = 0;
      const free = await opts.probes.diskFreeBytes();
      this.lastFreeBytes = free;
      this.diskUnknownLogged = false;
      this.setDisk(free < opts.diskFreeLimitBytes, free);
    } catch (err) {
      // Keep the last known state: a transient statfs failure should neither block nor unblock.
      if (!this.diskUnknownLogged) opts.logger.warn({ err }, "cannot check free disk space");
      this.diskUnknownLogged = true;
    }
    if (this.stopped) return;
    this.report();
  }

  private setMemory(on: boolean, rssBytes: number, accountedBytes: number): void {
    if (on === this.memory) return;
    this.memory = on;
    const held = this.opts.memory.byKind();
    const fields = { accountedBytes, held, rssBytes, watermarkBytes: this.opts.memoryHighWatermarkBytes };
    if (on) this.opts.logger.warn(fields, "memory alarm set: AMQP publishers are blocked until it clears");
    else this.opts.logger.info(fields, "memory alarm cleared");
  }

  private setDisk(on: boolean, freeBytes: number): void {
    if (on === this.disk) return;
    this.disk = on;
    const fields = { freeBytes, limitBytes: this.opts.diskFreeLimitBytes };
    if (on) this.opts.logger.warn(fields, "disk alarm set: AMQP publishers are blocked until it clears");
    else this.opts.logger.info(fields, "disk alarm cleared");
  }
}
