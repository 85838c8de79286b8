// The broker's one log cleaner: every `backoffMs` it rolls compacted logs' segments past segment.ms and
// cleans, filthiest first, every log whose dirty ratio reaches its topic's min.cleanable.dirty.ratio.
// Invariant: one cleaning at a time, with one key map of at most `bufferBytes` (Kafka's dedupe buffer).

import type { Clock, Logger, TimerHandle } from "../../lib/index.ts";
import type { FileLog } from "../file-log.ts";
import {
  type CleanResult,
  type CompactionConfig,
  cleanLog,
  compactionDelayMs,
  dirtyState,
  needsCleaning,
} from "./clean-log.ts";
import { CleanerStats } from "./cleaner-stats.ts";
import { OffsetMap } from "./offset-map.ts";

export interface LogCleanerOptions {
  clock: Clock;
  logger: Logger;
  /** memory for the key map (log.cleaner.dedupe.buffer.size); a log with more keys is cleaned in passes */
  bufferBytes: number;
  /** pause between checks (log.cleaner.backoff.ms) */
  backoffMs: number;
}

/** A log and what its topic says now: null while the topic's cleanup.policy has no compact. */
type Watched = () => CompactionConfig | null;

export class LogCleaner {
  private readonly logs = new Map<FileLog, Watched>();
  private timer: TimerHandle | undefined;
  private running: Promise<CleanResult[]> | null = null;
  /** for /metrics and tests */
  readonly stats = new CleanerStats();

  constructor(private readonly opts: LogCleanerOptions) {}

  start(): void {
    this.stats.running = true;
    this.stats.lastCheckMs = this.opts.clock.nowMs();
    this.timer ??= this.opts.clock.setRepeating(this.opts.backoffMs, () => void this.runOnce());
  }

  add(log: FileLog, config: Watched): void {
    this.logs.set(log, config);
  }

  remove(log: FileLog): void {
    this.logs.delete(log);
    this.stats.failing.delete(log.dir);
  }

  /** One round over every compacted log; a round already running is joined, not doubled. */
  runOnce(force = false): Promise<CleanResult[]> {
    this.running ??= this.round(force).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async round(force: boolean): Promise<CleanResult[]> {
    const nowMs = this.opts.clock.nowMs();
    const { stats } = this;
    stats.lastCheckMs = nowMs;
    const dirty: { log: FileLog; cfg: CompactionConfig; ratio: number; delayMs: number }[] = [];
    let maxRatio = 0;
    for (const [log, watched] of this.logs) {
      const cfg = watched();
      if (cfg === null) continue;
      try {
        await log.rollIfDue(cfg.maxCompactionLagMs);
        const state = await dirtyState(log, cfg, nowMs);
        maxRatio = Math.max(maxRatio, state.ratio);
        const delayMs = Math.max(0, compactionDelayMs(state, cfg, nowMs));
        if (needsCleaning(state, cfg, { nowMs, force }))
          dirty.push({ log, cfg, ratio: state.ratio, delayMs });
        else stats.failing.delete(log.dir); // not due: nothing failed (a failed cleaning leaves it due)
      } catch (err) {
        stats.failing.add(log.dir);
        this.opts.logger.error({ err, dir: log.dir }, "log cleaner could not inspect a log; retried later");
      }
    }
    stats.maxDirtyPercent = Math.round(100 * maxRatio);
    if (dirty.length === 0) return [];
    dirty.sort((a, b) => b.ratio - a.ratio);
    const map = new OffsetMap(this.opts.bufferBytes); // freed after the round: idle brokers hold none
    const results: CleanResult[] = [];
    for (const { log, cfg, delayMs } of dirty) {
      if (!this.logs.has(log)) continue; // its topic was deleted meanwhile
      const startMs = this.opts.clock.nowMs();
      try {
        const r = await cleanLog(log, cfg, map, { nowMs: startMs, force });
        stats.failing.delete(log.dir);
        if (r === null) continue;
        stats.cleaned(r, map.size / map.slots, this.opts.clock.nowMs() - startMs, delayMs);
        results.push(r);
        this.opts.logger.info(
          { dir: log.dir, ...r },
          `log cleaned: kept ${r.recordsKept} of ${r.recordsRead} records, ${r.bytesRead} → ${r.bytesWritten} bytes`,
        );
      } catch (err) {
        stats.failing.add(log.dir);
        this.opts.logger.error({ err, dir: log.dir }, "log cleaning failed; retried at the next check");
      }
    }
    return results;
  }

  async close(): Promise<void> {
    this.opts.clock.clearTimer(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
    this.logs.clear();
  }
}
