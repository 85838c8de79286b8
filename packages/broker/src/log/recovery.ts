// Opening a log directory after a clean stop or a crash: finds the segments, trusts sealed segments
// whose index files match them, scans the tail and truncates it at the first bad batch that may be torn.
// Invariant: what was durable is never cut: damage there is stepped over and reported, and so are gaps.

import { join } from "node:path";
import { type Clock, type Fs, type Logger, mkdirpDurably } from "../lib/index.ts";
import { recoverSwaps } from "./cleaner/swap.ts";
import type { LogDamage } from "./damage.ts";
import { readCleanEnd } from "./end-offset.ts";
import { acksAfterSync } from "./fsync-policy.ts";
import type { LogConfig } from "./log.ts";
import type { OpenFiles } from "./open-files.ts";
import { walkBatches } from "./scan.ts";
import { parseSegmentName, SEGMENT_SUFFIX, Segment, segmentName } from "./segment.ts";
import { SegmentFile } from "./segment-file.ts";
import { SegmentIndex } from "./segment-index.ts";
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
  damage: LogDamage;
  /** offsets below it are known to have been durable (the owner's snapshot covers them) */
  durableEndOffset?: number;
  /** where a log with no segment starts */
  startOffsetIfNew?: number;
  files: OpenFiles;
}

export async function recoverLog(ctx: RecoveryContext): Promise<RecoveredLog> {
  const { fs, dir } = ctx;
  await mkdirpDurably(fs, dir);
  // a cleaning interrupted by a crash: its uncommitted copy goes, a committed swap is finished
  if ((await recoverSwaps(fs, dir, await fs.readdir(dir))) > 0)
    ctx.logger.info({ dir }, "finished a log cleaner swap interrupted by the last stop");
  const names = await fs.readdir(dir);
  const bases = names
    .map(parseSegmentName)
    .filter((b): b is number => b !== null)
    .sort((a, b) => a - b);
  await removeLeftovers(ctx, names, new Set(bases));
  const checkpoint = await readStartOffset(fs, dir);
  const cleanEnd = await readCleanEnd(fs, dir);
  if (bases.length === 0) bases.push(checkpoint ?? ctx.startOffsetIfNew ?? 0);

  const segments: Segment[] = [];
  for (let i = 0; i < bases.length - 1; i++) segments.push(await openSealed(ctx, bases[i]!, bases[i + 1]!));
  const durableEnd = Math.max(cleanEnd ?? 0, ctx.durableEndOffset ?? 0);
  segments.push(await openTail(ctx, bases[bases.length - 1]!, durableEnd));
  await fs.syncDir(dir);
  reportGaps(ctx, segments, cleanEnd);
  const startOffset = Math.max(checkpoint ?? 0, segments[0]!.baseOffset);
  return { segments, startOffset };
}

/** Offsets that a missing segment file took with it, and a tail shorter than at the last clean close. */
function reportGaps(ctx: RecoveryContext, segments: Segment[], cleanEnd: number | null): void {
  for (let i = 0; i + 1 < segments.length; i++) {
    const seg = segments[i]!;
    const next = segments[i + 1]!.baseOffset;
    if (seg.nextOffset < next) {
      const file = join(ctx.dir, segmentName(seg.nextOffset, SEGMENT_SUFFIX));
      ctx.damage.missing(file, seg.nextOffset, next, "a segment file is missing", 1);
    }
  }
  const tail = segments[segments.length - 1]!;
  if (cleanEnd !== null && tail.nextOffset < cleanEnd) {
    const why = `the log ends at ${tail.nextOffset} but ended at ${cleanEnd} when it was last closed (truncated or missing file)`;
    ctx.damage.missing(tail.path(), tail.nextOffset, cleanEnd, why);
  }
}

/** Builds a segment's index by reading it through, stepping over damage where `canSkip` allows. */
async function indexSegment(
  ctx: RecoveryContext,
  seg: Segment,
  bound: { endOffset: number; offsetAtEnd?: number },
  canSkip: (offset: number) => boolean,
) {
  const index = new SegmentIndex(seg.baseOffset, ctx.config.indexIntervalBytes);
  const walk = await walkBatches(
    seg,
    ctx.damage,
    {
      from: 0,
      to: seg.size,
      expectedOffset: seg.baseOffset,
      ...bound,
      foundBy: "recovery",
      canSkip,
      chunkBytes: 4 << 20,
    },
    (b) => {
      index.onBatch(b.baseOffset, b.pos, b.size, b.maxTimestamp);
      return true;
    },
  );
  return { index, ...walk };
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
  // Opened through the shared cache: a directory of more segments than descriptors still opens.
  const fh = new SegmentFile(ctx.fs, path, acksAfterSync(ctx.config.fsync), ctx.files);
  const size = await fh.size();
  return new Segment(ctx.dir, base, fh, size, base, -1, null, ctx.clock.nowMs() + ctx.config.segmentMs);
}

/**
 * A sealed segment is trusted when its index files match it; otherwise it is read through. Damage in it
 * is reported and stepped over (later batches in it stay readable), never cut: it was durable.
 */
async function openSealed(ctx: RecoveryContext, base: number, nextBase: number): Promise<Segment> {
  const seg = await openSegment(ctx, base);
  const loaded = await seg.readIndexFiles(ctx.fs, ctx.config.indexIntervalBytes);
  if (loaded) {
    seg.nextOffset = loaded.summary.nextOffset;
    seg.maxTimestamp = loaded.summary.maxTimestamp;
    return seg;
  }
  const rebuilt = await indexSegment(ctx, seg, { endOffset: nextBase }, () => true);
  seg.nextOffset = rebuilt.nextOffset;
  seg.maxTimestamp = rebuilt.index.maxTimestamp;
  if (rebuilt.end === seg.size && ctx.damage.of(base).length === 0) seg.checkedBytes = seg.size;
  await seg.writeIndexFiles(ctx.fs, rebuilt.index);
  return seg; // its index is loaded again when a read needs it
}

/**
 * The tail may hold a torn or unsynced write: everything from its first bad batch is cut off, unless that
 * batch lies below `durableEnd` (it was durable, so it is damage, not a torn write: stepped over instead).
 */
async function openTail(ctx: RecoveryContext, base: number, durableEnd: number): Promise<Segment> {
  const seg = await openSegment(ctx, base).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw e;
    await ctx.fs.open(join(ctx.dir, segmentName(base, SEGMENT_SUFFIX)), "create").then((fh) => fh.close());
    return openSegment(ctx, base);
  });
  // intact batches after durable damage start at or below the durable end; what follows them is unknown
  const bound = { endOffset: durableEnd, offsetAtEnd: durableEnd };
  const rebuilt = await indexSegment(ctx, seg, bound, (offset) => offset < durableEnd);
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
  // read through with its CRCs just now; with damage in it, reads keep checking
  if (ctx.damage.of(base).length === 0) seg.checkedBytes = seg.size;
  return seg;
}
