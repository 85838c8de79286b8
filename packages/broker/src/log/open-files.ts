// The broker-wide bound on open log files: an LRU of segment handles, the count of logs sharing them, and
// the wait for a descriptor when the process has none left.
// Invariant: at most `capacity` segment files are open (an open waits for a place when all are in use);
// a file in use is never closed under its user.

import {
  BrokerError,
  Burst,
  type Clock,
  type FileHandle,
  type Fs,
  isOutOfFds,
  LIMITS,
  type Logger,
  systemClock,
} from "../lib/index.ts";

/** An open segment file the cache may close while nobody uses it (it reopens on the next use). */
export interface CachedFile {
  readonly path: string;
  /** in use or held: not to be closed now */
  readonly pinned: boolean;
  /** Closes the descriptor; the file reopens on its next use. */
  evict(): Promise<void>;
}

export interface OpenFilesOptions {
  /** segment files kept open at most (more only while in use) */
  readonly capacity: number;
  /** logs (partitions, queue message and ack logs) that may be created; each should keep its active
   *  segment open without pushing another log's out */
  readonly logsMax: number;
  /** what an operator changes to allow more, named in errors and warnings */
  readonly hint: string;
  readonly logger: Logger;
  readonly clock?: Clock;
}

const WAIT_FIRST_MS = 20;
const WAIT_MAX_MS = 1000;

export class OpenFiles {
  /** open files, least recently used first (a Map keeps insertion order) */
  private readonly lru = new Map<CachedFile, true>();
  /** opens under way: they hold a place too */
  private opening = 0;
  /** opens waiting for a place (every open file in use) */
  private waiters: (() => void)[] = [];
  private logs = 0;
  private readonly waitBurst: Burst;
  private readonly clock: Clock;

  constructor(readonly opts: OpenFilesOptions) {
    this.clock = opts.clock ?? systemClock;
    this.waitBurst = new Burst(this.clock);
  }

  /** A cache for one log on its own (tests, tools): no budget of logs, a generous cap on files. */
  static unshared(logger: Logger): OpenFiles {
    return new OpenFiles({ capacity: LIMITS.logFilesOpenMax, logsMax: Infinity, hint: "", logger });
  }

  get openCount(): number {
    return this.lru.size;
  }

  get logCount(): number {
    return this.logs;
  }

  used(f: CachedFile): void {
    if (this.lru.delete(f)) this.lru.set(f, true);
  }

  closed(f: CachedFile): void {
    this.lru.delete(f);
    this.wake();
  }

  /**
   * Opens `f` once it has a place: the least recently used idle file is closed to make one, or, when every
   * open file is in use, the open waits until one is done. Without that wait, 1,000 appends at once to
   * 1,000 partitions open 1,000 files whatever the cap (and ran into EMFILE under ulimit -n 1024).
   */
  async open(f: CachedFile, open: () => Promise<FileHandle>): Promise<FileHandle> {
    while (this.lru.size + this.opening >= this.opts.capacity) {
      if (await this.evictOne()) continue;
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
    this.opening++;
    try {
      const fh = await this.patiently(f.path, open);
      this.lru.set(f, true);
      return fh;
    } finally {
      this.opening--;
    }
  }

  private wake(): void {
    if (this.waiters.length > 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /** A file is no longer in use: closes the least recently used idle files down to `capacity`. */
  trim(): void {
    this.wake();
    if (this.lru.size <= this.opts.capacity) return;
    for (const f of this.lru.keys()) {
      if (this.lru.size <= this.opts.capacity) return;
      if (!f.pinned) this.evict(f);
    }
  }

  private evict(f: CachedFile): Promise<void> {
    this.lru.delete(f);
    return f.evict().catch((err: unknown) => {
      this.opts.logger.warn({ err, file: f.path }, "closing an idle segment file failed");
    });
  }

  /**
   * Counts `n` new logs against the budget; throws RESOURCE_LIMIT naming `what` when they do not fit.
   * Logs that already exist on disk are counted with `force` (a restart never fails for the budget).
   */
  claimLogs(n: number, what: string, force = false): void {
    const { logsMax, hint } = this.opts;
    if (!force && this.logs + n > logsMax) {
      throw new BrokerError(
        "RESOURCE_LIMIT",
        `${what} needs ${n} more log${n === 1 ? "" : "s"}: ${this.logs} of the ${logsMax} the open-file ` +
          `limit allows are in use (a log per partition, two per durable queue); ${hint}`,
        { logs: this.logs, logsMax, asked: n },
      );
    }
    this.logs += n;
  }

  releaseLogs(n: number): void {
    this.logs = Math.max(0, this.logs - n);
  }

  /** Whether `n` more logs fit, without claiming them. */
  checkLogs(n: number, what: string): void {
    this.claimLogs(n, what);
    this.releaseLogs(n);
  }

  /**
   * Runs `op`, waiting out EMFILE/ENFILE instead of failing: an idle file is closed and `op` retried, or,
   * when none is idle, `op` is retried after a pause. Nothing is lost by waiting: `op` only opens.
   */
  async patiently<T>(what: string, op: () => Promise<T>): Promise<T> {
    let pauseMs = WAIT_FIRST_MS;
    for (;;) {
      try {
        return await op();
      } catch (e) {
        if (!isOutOfFds(e)) throw e;
        if (await this.evictOne()) continue;
        if (this.waitBurst.hit()) {
          this.opts.logger.warn(
            { file: what, code: (e as NodeJS.ErrnoException).code, openSegmentFiles: this.lru.size },
            `out of file descriptors: waiting to open ${what}; ${this.opts.hint}`,
          );
        }
        // A plain timer, not the Clock: a backoff against the OS, not domain time (a fake clock would never
        // end it), and, unlike the Clock's, it keeps the process alive while an append waits on it.
        await new Promise((r) => setTimeout(r, pauseMs));
        pauseMs = Math.min(pauseMs * 2, WAIT_MAX_MS);
      }
    }
  }

  private async evictOne(): Promise<boolean> {
    for (const f of this.lru.keys()) {
      if (f.pinned) continue;
      await this.evict(f);
      return true;
    }
    return false;
  }

  /** `fs` whose descriptor-taking calls wait out EMFILE/ENFILE (see patiently). */
  patientFs(fs: Fs): Fs {
    return {
      open: (path, mode, dsync) =>
        this.patiently(path, () => fs.open(path, mode, dsync)).then((fh) => fh as FileHandle),
      readdir: (dir) => this.patiently(dir, () => fs.readdir(dir)),
      mkdirp: (dir) => fs.mkdirp(dir),
      exists: (path) => fs.exists(path),
      unlink: (path) => fs.unlink(path),
      rename: (from, to) => fs.rename(from, to),
      syncDir: (dir) => this.patiently(dir, () => fs.syncDir(dir)),
      readFile: (path) => this.patiently(path, () => fs.readFile(path)),
    };
  }
}
