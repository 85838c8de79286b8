// Resource alarms as in RabbitMQ: free disk space on the data dir's filesystem and the process's RSS,
// sampled every second. Invariant: onChange hears only changes of the reason (null = no alarm), and each
// alarm's set and clear is logged exactly once.

import { statfs } from "node:fs/promises";
import { totalmem } from "node:os";
import type { Logger } from "../lib/index.ts";

/** What the monitor measures; injected so tests can drive set → clear transitions. */
export interface ResourceProbes {
  diskFreeBytes(): Promise<number>;
  rssBytes(): number;
}

export type ResourceAlarmsOptions = {
  readonly diskFreeLimitBytes: number;
  readonly memoryHighWatermarkBytes: number;
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

export class ResourceAlarms {
  private disk = false;
  private memory = false;
  private diskUnknownLogged = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: ResourceAlarmsOptions) {}

  /** The reason publishing is blocked, in RabbitMQ's words, or null when no alarm is on. */
  get reason(): string | null {
    const low = [this.memory && "memory", this.disk && "disk"].filter((r) => r !== false);
    return low.length === 0 ? null : `low on ${low.join(" & ")}`;
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

  private async sample(): Promise<void> {
    const { opts } = this;
    const before = this.reason;
    const rss = opts.probes.rssBytes();
    this.setMemory(rss > opts.memoryHighWatermarkBytes, rss);
    try {
      const free = await opts.probes.diskFreeBytes();
      this.diskUnknownLogged = false;
      this.setDisk(free < opts.diskFreeLimitBytes, free);
    } catch (err) {
      // Keep the last known state: a transient statfs failure should neither block nor unblock.
      if (!this.diskUnknownLogged) opts.logger.warn({ err }, "cannot check free disk space");
      this.diskUnknownLogged = true;
    }
    if (this.stopped) return;
    const after = this.reason;
    if (after !== before) opts.onChange(after);
  }

  private setMemory(on: boolean, rssBytes: number): void {
    if (on === this.memory) return;
    this.memory = on;
    const fields = { rssBytes, watermarkBytes: this.opts.memoryHighWatermarkBytes };
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
