// Which old segments retention deletes: oldest first, while the oldest is past the age limit or the
// log without it still holds at least the size limit. The active segment is never among them.

import type { LogConfig } from "./log.ts";

export interface RetainedSegment {
  size: number;
  /** -1 when empty */
  maxTimestamp: number;
}

/** How many of the sealed segments (oldest first, active excluded) retention removes. */
export function countPastRetention(
  sealed: readonly RetainedSegment[],
  totalBytes: number,
  config: Pick<LogConfig, "retentionBytes" | "retentionMs">,
  nowMs: number,
): number {
  const cutoff = nowMs - config.retentionMs;
  let total = totalBytes;
  let n = 0;
  for (const seg of sealed) {
    const expired = config.retentionMs >= 0 && seg.maxTimestamp < cutoff;
    const oversize = config.retentionBytes >= 0 && total - seg.size >= config.retentionBytes;
    if (!expired && !oversize) break;
    total -= seg.size;
    n++;
  }
  return n;
}

/** Whether a non-empty active segment has expired and should be rolled so it can go too. */
export function activeExpired(active: RetainedSegment, retentionMs: number, nowMs: number): boolean {
  return retentionMs >= 0 && active.size > 0 && active.maxTimestamp < nowMs - retentionMs;
}
