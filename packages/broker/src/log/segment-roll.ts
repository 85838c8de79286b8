// Sealing the active segment and creating the next one on disk.
// Invariant: the old segment is synced and the new one's name is durable before the caller uses it; a roll
// that fails leaves no new segment file behind (or fails for good when it cannot remove it).

import { join } from "node:path";
import type { Clock, Fs } from "../lib/index.ts";
import { FinalWriteError } from "./disk-full.ts";
import { acksAfterSync } from "./fsync-policy.ts";
import type { LogConfig } from "./log.ts";
import type { OpenFiles } from "./open-files.ts";
import { SEGMENT_SUFFIX, Segment, segmentName } from "./segment.ts";
import { SegmentFile } from "./segment-file.ts";
import { SegmentIndex } from "./segment-index.ts";
import type { SyncLatency } from "./sync-latency.ts";

export interface RollContext {
  readonly fs: Fs;
  readonly dir: string;
  readonly config: LogConfig;
  readonly clock: Clock;
  readonly files: OpenFiles;
  readonly syncLatency?: SyncLatency;
}

/**
 * Syncs `old` (in every fsync policy, so sealed segments are whole), writes its index files and creates the
 * segment after it. A stray empty segment file named past the offsets `old` keeps after a full-disk rewind
 * would break offset density at the next recovery, so a new file is removed again if its roll fails.
 */
export async function createNextSegment(ctx: RollContext, old: Segment): Promise<Segment> {
  const { fs, dir, config, clock, files } = ctx;
  const dsync = acksAfterSync(config.fsync);
  const startMs = ctx.syncLatency?.now() ?? 0;
  await old.fh.datasync().catch((e: unknown) => {
    // under interval/never this sync covers acknowledged writes: a failure may have lost them
    throw dsync ? e : new FinalWriteError(e);
  });
  ctx.syncLatency?.since(startMs);
  await old.writeIndexFiles(fs, old.index!);
  const path = join(dir, segmentName(old.nextOffset, SEGMENT_SUFFIX));
  // created through the cache, within its cap: 1,000 partitions rolling at once do not open 1,000 files
  const fh = new SegmentFile(fs, path, dsync, files, "create");
  await fh.ensureOpen();
  try {
    await fs.syncDir(dir);
  } catch (e) {
    await fh.close();
    await fs
      .unlink(path)
      .then(() => fs.syncDir(dir))
      .catch((cleanup: unknown) => {
        throw new FinalWriteError(cleanup);
      });
    throw e;
  }
  const index = new SegmentIndex(old.nextOffset, config.indexIntervalBytes);
  return new Segment(dir, old.nextOffset, fh, 0, old.nextOffset, -1, index, clock.nowMs() + config.segmentMs);
}
