// Opening a log directory after a clean stop or a crash: finds the segments, trusts sealed segments
// whose index files match them, scans the tail and truncates it at the first bad batch.

import { join } from "node:path";
import { type Clock, type Fs, type Logger, mkdirpDurably } from "../lib/index.ts";
import { acksAfterSync } from "./fsync-policy.ts";
import type { LogConfig } from "./log.ts";
import { parseSegmentName, SEGMENT_SUFFIX, Segment, segmentName } from "./segment.ts";
import { readStartOffset } from "./start-offset.ts";

export interface RecoveredLog {
  segments: Segment[];
  startOffset: number;
}

export interface RecoveryContext {
  fs: Fs;
  dir: string;
  config: LogConfig;
  clock: Clock;
  logger: Logger;
}

export async function recoverLog(ctx: RecoveryContext): Promise<RecoveredLog> {
  const { fs, dir } = ctx;
  await mkdirpDurably(fs, dir);
  const names = await fs.readdir(dir);
  const bases = names
    .map(parseSegmentName)
    .filter((b): b is number => b !== null)
    .sort((a, b) => a - b);
  await removeLeftovers(ctx, names, new Set(bases));
  const checkpoint = await readStartOffset(fs, dir);
  if (bases.length === 0) bases.push(checkpoint ?? 0);

  const segments: Segment[] = [];
  for (let i = 0; i < bases.length - 1; i++) segments.push(await openSealed(ctx, bases[i]!));
  segments.push(await openTail(ctx, bases[bases.length - 1]!));
  await fs.syncDir(dir);
  const startOffset = Math.max(checkpoint ?? 0, segments[0]!.baseOffset);
  return { segments, startOffset };
}

/** Temp files from interrupted writes and index files whose segment is gone. */
async function removeLeftovers(ctx: RecoveryContext, names: string[], bases: Set<number>): Promise<void> {
  for (const name of names) {
    const m = /^(\d{20})\.(index|timeindex)$/.exec(name);
    const orphan = m !== null && !bases.has(Number(m[1]));
    if (orphan || name.endsWith(".tmp")) await ctx.fs.unlink(join(ctx.dir, name));
  }
}

async function openSegment(ctx: RecoveryContext, base: number): Promise<Segment> {
  const path = join(ctx.dir, segmentName(base, SEGMENT_SUFFIX));
  const fh = await ctx.fs.open(path, "rw", acksAfterSync(ctx.config.fsync));
  const size = await fh.size();
  return new Segment(ctx.dir, base, fh, size, base, -1, null, ctx.clock.nowMs() + ctx.config.segmentMs);
}

/**
 * A sealed segment is trusted when its index files match it; otherwise it is scanned. A damaged
 * sealed segment is kept as it is (later batches in it may still be good), but reads stop at the damage.
 */
async function openSealed(ctx: RecoveryContext, base: number): Promise<Segment> {
  const seg = await openSegment(ctx, base);
  const loaded = await seg.readIndexFiles(ctx.fs, ctx.config.indexIntervalBytes);
  if (loaded) {
    seg.nextOffset = loaded.summary.nextOffset;
    seg.maxTimestamp = loaded.summary.maxTimestamp;
    return seg;
  }
  const rebuilt = await seg.rebuildIndex(ctx.config.indexIntervalBytes);
  seg.nextOffset = rebuilt.nextOffset;
  seg.maxTimestamp = rebuilt.index.maxTimestamp;
  if (rebuilt.problem) {
    ctx.logger.error(
      {
        file: seg.path(),
        position: rebuilt.end,
        unreadableBytes: seg.size - rebuilt.end,
        problem: rebuilt.problem,
      },
      `sealed segment is damaged: offsets from ${rebuilt.nextOffset} in it are unreadable`,
    );
    seg.size = rebuilt.end;
    seg.visibleBytes = rebuilt.end;
  } else {
    await seg.writeIndexFiles(ctx.fs, rebuilt.index);
  }
  return seg; // its index is loaded again when a read needs it
}

/** The tail may hold a torn or unsynced write: everything from its first bad batch is cut off. */
async function openTail(ctx: RecoveryContext, base: number): Promise<Segment> {
  const seg = await openSegment(ctx, base).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw e;
    await ctx.fs.open(join(ctx.dir, segmentName(base, SEGMENT_SUFFIX)), "create").then((fh) => fh.close());
    return openSegment(ctx, base);
  });
  const rebuilt = await seg.rebuildIndex(ctx.config.indexIntervalBytes);
  if (rebuilt.problem) {
    const cut = seg.size - rebuilt.end;
    await seg.fh.truncate(rebuilt.end);
    await seg.fh.datasync();
    ctx.logger.warn(
      {
        file: seg.path(),
        cutBytes: cut,
        keptBytes: rebuilt.end,
        firstCutOffset: rebuilt.nextOffset,
        problem: rebuilt.problem,
      },
      `recovery truncated ${cut} bytes from the log tail (offsets from ${rebuilt.nextOffset} on were never acknowledged or are damaged)`,
    );
    seg.size = rebuilt.end;
    seg.visibleBytes = rebuilt.end;
  }
  seg.nextOffset = rebuilt.nextOffset;
  seg.maxTimestamp = rebuilt.index.maxTimestamp;
  seg.index = rebuilt.index;
  return seg;
}
