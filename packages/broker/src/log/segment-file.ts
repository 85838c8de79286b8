// One segment's file, opened on first use and reopened after the shared cache (open-files.ts) closed it.
// Invariant: every call runs on an open descriptor that stays open until the call ends; after close() none.

import { BrokerError, type FileHandle, type Fs } from "../lib/index.ts";
import type { CachedFile, OpenFiles } from "./open-files.ts";

export class SegmentFile implements FileHandle, CachedFile {
  private fh: FileHandle | null;
  private opening: Promise<FileHandle> | undefined;
  /** calls running now */
  private users = 0;
  /** hold() without release(): a read that spans calls keeps the descriptor (and an unlinked file) */
  private holds = 0;
  private closed = false;

  /** The file opens on first use; `create` makes it if it is missing (a new segment), else it must exist. */
  constructor(
    private readonly fs: Fs,
    readonly path: string,
    private readonly dsync: boolean,
    private readonly files: OpenFiles,
    private mode: "rw" | "create" = "rw",
  ) {
    this.fh = null;
  }

  /** Opens the file now (creating it in "create" mode), within the cache's cap. */
  async ensureOpen(): Promise<void> {
    await this.use(async () => undefined);
  }

  get pinned(): boolean {
    return this.users > 0 || this.holds > 0 || this.opening !== undefined;
  }

  hold(): void {
    this.holds++;
  }

  release(): void {
    this.holds--;
    if (!this.pinned) this.files.trim();
  }

  read(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.use((fh) => fh.read(buf, offset, length, position));
  }
  write(buf: Buffer, position: number): Promise<void> {
    return this.use((fh) => fh.write(buf, position));
  }
  writev(bufs: readonly Buffer[], position: number): Promise<void> {
    return this.use((fh) => fh.writev(bufs, position));
  }
  // A datasync on a reopened descriptor still covers writes made through the closed one: fdatasync flushes
  // the file, not the descriptor, and Linux reports a writeback error not yet seen to the next opener.
  datasync(): Promise<void> {
    return this.use((fh) => fh.datasync());
  }
  truncate(length: number): Promise<void> {
    return this.use((fh) => fh.truncate(length));
  }
  size(): Promise<number> {
    return this.use((fh) => fh.size());
  }

  async close(): Promise<void> {
    this.closed = true;
    this.files.closed(this);
    const fh = this.fh;
    this.fh = null;
    if (fh !== null) await fh.close();
  }

  async evict(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh !== null) await fh.close();
  }

  private async use<T>(fn: (fh: FileHandle) => Promise<T>): Promise<T> {
    this.users++;
    try {
      const fh = this.fh ?? (await this.reopen());
      this.files.used(this);
      return await fn(fh);
    } finally {
      this.users--;
      if (!this.pinned) this.files.trim();
    }
  }

  private reopen(): Promise<FileHandle> {
    if (this.closed) {
      return Promise.reject(new BrokerError("LOG_CLOSED", `segment file ${this.path} is closed`));
    }
    this.opening ??= this.files
      .open(this, () => this.fs.open(this.path, this.mode, this.dsync))
      .then(async (fh) => {
        this.mode = "rw"; // once made, a segment that disappears is an error, never silently recreated
        if (this.closed) {
          this.files.closed(this);
          await fh.close();
          throw new BrokerError("LOG_CLOSED", `segment file ${this.path} is closed`);
        }
        this.fh = fh;
        return fh;
      })
      .finally(() => {
        this.opening = undefined;
      });
    return this.opening;
  }
}
