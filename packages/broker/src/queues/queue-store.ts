// Where a queue's data lives: a message log and an ack log under <queues-dir>/<hash of name>/, or memory.
// Invariant: a durable queue's directory name is fixed by its name, so a restart finds the same files.

import { createHash } from "node:crypto";
import { join } from "node:path";
import { type Clock, type Fs, LIMITS, type Logger, type MemoryAccount } from "../lib/index.ts";
import {
  type DamageWatch,
  DEFAULT_LOG_CONFIG,
  FileLog,
  type FsyncPolicy,
  type Log,
  type LogConfig,
  MemoryLog,
  OpenFiles,
  removeLogFiles,
} from "../log/index.ts";
import { Queue, type QueueOptions } from "./queue.ts";
import { parseQueuePolicy, type QueuePolicy } from "./queue-policy.ts";
import { PendingBudget } from "./ready-list.ts";
import { SettleState } from "./settle-state.ts";

export interface QueueStoreOptions {
  readonly fs: Fs;
  /** <data-dir>/queues */
  readonly dir: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly fsync: FsyncPolicy;
  /** where the memory alarm sees the read-ahead windows */
  readonly memory?: MemoryAccount;
  /** counts damage in queue logs and verifies them in the background */
  readonly watch?: DamageWatch;
  /** open segment files shared with the broker's other logs, and the budget of logs; own one when absent */
  readonly files?: OpenFiles;
}

const MESSAGE_LOG: LogConfig = {
  ...DEFAULT_LOG_CONFIG,
  segmentBytes: 64 * 1024 * 1024,
  retentionBytes: -1,
  retentionMs: -1,
};
const ACK_LOG: LogConfig = { ...MESSAGE_LOG, segmentBytes: 1024 * 1024 };
const ACK_SYNC_MS = 1000;

/** Acks are written at once but synced at most every second: no confirm waits on them, and an ack lost
 *  with the power only brings its message back (redelivered), never loses one. A process crash loses
 *  nothing, since the write itself is done. */
function ackLogFsync(fsync: FsyncPolicy): FsyncPolicy {
  if (fsync.mode === "never") return fsync;
  return {
    mode: "interval",
    intervalMs: Math.min(fsync.mode === "interval" ? fsync.intervalMs : ACK_SYNC_MS, ACK_SYNC_MS),
  };
}

export class QueueStore {
  private readonly budget: PendingBudget;
  private readonly files: OpenFiles;

  constructor(private readonly opts: QueueStoreOptions) {
    this.budget = new PendingBudget(LIMITS.queuesReadAheadBytesMax, opts.memory);
    this.files = opts.files ?? OpenFiles.unshared(opts.logger);
  }

  /** where queue-level faults without a client to tell are reported */
  get logger(): Logger {
    return this.opts.logger;
  }

  private dirOf(name: string): string {
    return join(this.opts.dir, createHash("sha256").update(name).digest("hex").slice(0, 40));
  }

  /** Opens (or creates) the queue's storage; a durable queue recovers what is on disk. */
  async open(q: QueueOptions, recovered: boolean): Promise<Queue> {
    const { clock, logger, fsync } = this.opts;
    const policy = parseQueuePolicy(q.name, q.args);
    if (!q.durable) {
      const log = new MemoryLog({ ...MESSAGE_LOG, fsync }, clock);
      return new Queue(q, policy, log, SettleState.fresh(0), clock, this.budget, false, logger);
    }
    // a message log and an ack log; a queue on disk is opened whatever the budget says now
    this.files.claimLogs(2, `durable queue '${q.name}'`, recovered);
    try {
      const queue = await this.openDurable(q, policy, recovered);
      let held = true;
      queue.onClose(async () => {
        if (held) this.files.releaseLogs(2);
        held = false;
      });
      return queue;
    } catch (e) {
      this.files.releaseLogs(2);
      throw e;
    }
  }

  private async openDurable(q: QueueOptions, policy: QueuePolicy, recovered: boolean): Promise<Queue> {
    const { clock, logger } = this.opts;
    const { log, settle, acks } = await this.openFileLogs(q.name);
    const queue = new Queue(q, policy, log, settle, clock, this.budget, recovered, logger);
    queue.onClose(() => acks.close());
    if (recovered) {
      // counts stay approximate rather than the queue unavailable (a damaged record is reported by the log)
      await queue
        .recover()
        .catch((err: unknown) =>
          logger.warn(
            { err, queue: q.name },
            "could not read the recovered queue through; its counts may be off",
          ),
        );
    }
    return queue;
  }

  /** The message log and settle state stored under `name` (FileLogs when durable, else memory), for what
   *  keeps messages like a queue without being one (x-delayed-message); the caller closes the message
   *  log, then calls closeAcks. */
  async openLogs(
    name: string,
    durable: boolean,
    recovered: boolean,
  ): Promise<{ log: Log; settle: SettleState; closeAcks: () => Promise<void> }> {
    if (!durable) {
      const log = new MemoryLog({ ...MESSAGE_LOG, fsync: this.opts.fsync }, this.opts.clock);
      return { log, settle: SettleState.fresh(0), closeAcks: async () => undefined };
    }
    this.files.claimLogs(2, `delayed messages '${name}'`, recovered);
    try {
      const { log, settle, acks } = await this.openFileLogs(name);
      let held = true;
      const closeAcks = async () => {
        await acks.close();
        if (held) this.files.releaseLogs(2);
        held = false;
      };
      return { log, settle, closeAcks };
    } catch (e) {
      this.files.releaseLogs(2);
      throw e;
    }
  }

  private async openFileLogs(name: string): Promise<{ log: FileLog; settle: SettleState; acks: FileLog }> {
    const { fs, clock, logger, fsync } = this.opts;
    const dir = this.dirOf(name);
    const log = await FileLog.open({
      fs,
      dir: join(dir, "messages"),
      clock,
      logger,
      config: { ...MESSAGE_LOG, fsync },
      ...(this.opts.watch ?? {}),
      files: this.files,
    });
    const acks = await FileLog.open({
      fs,
      dir: join(dir, "acks"),
      clock,
      logger,
      config: { ...ACK_LOG, fsync: ackLogFsync(fsync) },
      ...(this.opts.watch ?? {}),
      files: this.files,
    });
    const settle = await SettleState.recover(acks, log.startOffset, log.endOffset, logger);
    return { log, settle, acks };
  }

  /** Removes a deleted durable queue's files (after its logs are closed). */
  async remove(name: string): Promise<void> {
    const dir = this.dirOf(name);
    await removeLogFiles(this.opts.fs, join(dir, "messages"));
    await removeLogFiles(this.opts.fs, join(dir, "acks"));
  }
}
