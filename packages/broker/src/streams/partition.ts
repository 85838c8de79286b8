// One stream partition: a log plus the waiters that long-polling fetches park on.
// Invariant: every waiter is woken after each acknowledged append, and removed once it is woken or gone.

import type { AppendResult, Log, LogConfig, ReadResult } from "../log/index.ts";

export type AppendListener = () => void;

export class Partition {
  private readonly listeners = new Set<AppendListener>();

  constructor(
    readonly topic: string,
    readonly index: number,
    readonly log: Log,
    /** shared with the FileLog, which reads it at use time */
    readonly logConfig: LogConfig,
  ) {}

  get startOffset(): number {
    return this.log.startOffset;
  }

  get endOffset(): number {
    return this.log.endOffset;
  }

  /** Appends one batch (offsets are assigned at call time, so call order is log order). */
  async append(batch: Buffer): Promise<AppendResult> {
    const result = await this.log.append(batch);
    this.wake();
    return result;
  }

  read(offset: number, maxBytes: number): Promise<ReadResult> {
    return this.log.read(offset, maxBytes);
  }

  /** Calls `listener` after each acknowledged append until the returned function is called. */
  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private wake(): void {
    for (const l of [...this.listeners]) l();
  }
}
