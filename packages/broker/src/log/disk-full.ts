// A log's disk-full state: which write errors are a full disk, the retriable error appends get meanwhile,
// and the probe that retries with backoff. Invariant: appends are refused from the failed write until a
// probe has written to the log's directory again; a failure that may have lost synced data is never retried.

import { join } from "node:path";
import { BrokerError, type Fs, type Logger } from "../lib/index.ts";
import type { Segment } from "./segment.ts";
import type { IndexMark } from "./segment-index.ts";

/** The first retry waits this long, each later one twice as long, up to RETRY_MS_MAX. */
const RETRY_MS_MIN = 50;
const RETRY_MS_MAX = 2000;
/** A probe writes this much: space for a few small appends, not just one byte. */
const PROBE_BYTES = 64 * 1024;
/** Ends in .tmp, so recovery removes it if a crash leaves it behind. */
const PROBE_FILE = "disk-probe.tmp";

const FULL_CODES = new Set(["ENOSPC", "EDQUOT"]);

/** A write failure after which the log must not be trusted again (it wraps the cause, whatever its code). */
export class FinalWriteError extends Error {
  override readonly name = "FinalWriteError";
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

/** True for an error that only says the disk (or the quota) is full: the data before it is intact. */
export function isDiskFull(e: unknown): boolean {
  return !(e instanceof FinalWriteError) && FULL_CODES.has((e as NodeJS.ErrnoException | null)?.code ?? "");
}

/** Writes PROBE_BYTES to a temp file in `dir` and removes it: false if the disk is still full. */
export async function probeFreeSpace(fs: Fs, dir: string): Promise<boolean> {
  const path = join(dir, PROBE_FILE);
  const fh = await fs.open(path, "create");
  try {
    await fh.write(Buffer.alloc(PROBE_BYTES), 0);
    return true;
  } catch (e) {
    if (isDiskFull(e)) return false;
    throw e;
  } finally {
    await fh.close();
    await fs.unlink(path);
  }
}

/** The active segment as of its last acknowledged batch: what a full disk rewinds it to. */
export interface AckedMark {
  readonly size: number;
  readonly nextOffset: number;
  readonly maxTimestamp: number;
  readonly index: IndexMark;
}

export const markOf = (seg: Segment): AckedMark => ({
  size: seg.size,
  nextOffset: seg.nextOffset,
  maxTimestamp: seg.maxTimestamp,
  index: seg.index!.mark(),
});

/** Forgets, in memory and on disk, what was written to `seg` after `m`. The bytes past the mark may be
 *  synced already (O_DSYNC, a short write): they are cut durably before any offset is given out again. */
export async function rewindSegment(seg: Segment, m: AckedMark): Promise<void> {
  seg.size = m.size;
  seg.visibleBytes = m.size;
  seg.checkedBytes = Math.min(seg.checkedBytes, m.size);
  seg.nextOffset = m.nextOffset;
  seg.maxTimestamp = m.maxTimestamp;
  seg.index!.rewind(m.index);
  await seg.fh.truncate(m.size);
  await seg.fh.datasync();
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

export class DiskFullState {
  /** set while appends are refused */
  error: BrokerError | null = null;
  private delayMs = RETRY_MS_MIN;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private stopped: unknown = null;
  private waiters: Waiter[] = [];

  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
    /** true when space is back; throws when the disk failed otherwise */
    private readonly probe: () => Promise<boolean>,
    /** the probe threw: the log fails for good */
    private readonly onProbeError: (e: unknown) => void,
  ) {}

  /** The disk filled up: refuse appends with a retriable error and start probing. */
  enter(cause: string): BrokerError {
    if (this.error === null) {
      this.error = new BrokerError(
        "DISK_FULL",
        `log ${this.dir} refuses writes: the disk is full (${cause}); it accepts them again once space is freed`,
        { dir: this.dir, cause },
      );
      this.logger.warn(
        { dir: this.dir, cause },
        "disk full: log refuses appends until space is freed (nothing acknowledged is lost)",
      );
    }
    // a probe that found room but a write that did not fit again: back off as if the probe had failed
    this.schedule();
    this.delayMs = Math.min(this.delayMs * 2, RETRY_MS_MAX);
    return this.error;
  }

  /** Resolves once appends are accepted (at once if they are now); rejects if the log fails or closes. */
  writable(): Promise<void> {
    if (this.stopped !== null) return Promise.reject(this.stopped);
    if (this.error === null) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Probes now (a caller heard that space was freed); true if appends are accepted afterwards. */
  async retryNow(): Promise<boolean> {
    if (this.error === null || this.stopped !== null) return this.error === null;
    if (this.probing) return false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.probing = true;
    let ok = false;
    try {
      ok = await this.probe();
    } catch (e) {
      this.onProbeError(e);
      return false;
    } finally {
      this.probing = false;
    }
    if (this.stopped !== null) return false;
    if (!ok) {
      this.schedule();
      this.delayMs = Math.min(this.delayMs * 2, RETRY_MS_MAX);
      return false;
    }
    this.logger.info({ dir: this.dir }, "disk space is back: log accepts appends again");
    this.error = null;
    for (const w of this.waiters.splice(0)) w.resolve();
    return true;
  }

  /** A write went through: the next full disk is retried quickly again (not reset by a probe alone, so a
   *  probe that fits while the next write does not backs off). */
  written(): void {
    this.delayMs = RETRY_MS_MIN;
  }

  /** The log failed for good or closed: nothing is retried, waiters hear why. */
  stop(reason: unknown): void {
    this.stopped ??= reason;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiters.splice(0)) w.reject(reason);
  }

  private schedule(): void {
    if (this.timer !== undefined || this.stopped !== null) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.retryNow();
    }, this.delayMs);
    this.timer.unref();
  }
}
