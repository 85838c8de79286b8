// What a log knows about damage on its disk: the unreadable stretches of each segment, and the counters.
// Invariant: each damaged stretch is reported once (log line + counters) and reads skip it from then on.

import type { FileHandle, Logger } from "../lib/index.ts";
import { findResume } from "./resync.ts";

/** Bytes [fromPos, toPos) of a segment hold no intact batch; offsets [fromOffset, toOffset) are lost. */
export interface DamagedRange {
  readonly fromPos: number;
  readonly toPos: number;
  readonly fromOffset: number;
  readonly toOffset: number;
}

/** Counters a later /metrics reads: per log (`Log.damage`) and summed over every log (`DamageStats`). */
export interface DamageCounts {
  /** damaged stretches found (usually one batch each) */
  corruptBatches: number;
  /** bytes in them */
  corruptBytes: number;
  /** offsets lost: in damaged stretches, in missing segment files, or cut from a tail that was whole */
  lostOffsets: number;
  /** segment files missing between others */
  missingSegments: number;
  /** bytes of sealed segments checked by the background verifier */
  verifiedBytes: number;
}

export const noDamage = (): DamageCounts => ({
  corruptBatches: 0,
  corruptBytes: 0,
  lostOffsets: 0,
  missingSegments: 0,
  verifiedBytes: 0,
});

/** The broker-wide sum of every log's counters; the composition root makes one and hands it to each log. */
export class DamageStats {
  readonly counts: DamageCounts = noDamage();
}

/** Where a search for intact data after damage must stop: file position, and the offsets it may find. */
export interface DamageBound {
  readonly to: number;
  /** the offset at `to`: intact batches after the damage start at or below it */
  readonly endOffset: number;
  /** set where the offset at `to` is not known (a tail being recovered): taken as lost up to here when
   *  nothing intact follows the damage, while `endOffset` only bounds where intact batches may start */
  readonly offsetAtEnd?: number;
}

export type FoundBy = "recovery" | "read" | "verifier" | "cleaner";

/** The segment a damaged stretch is in, as the log layer sees it. */
export interface DamagedSegment {
  readonly baseOffset: number;
  readonly fh: FileHandle;
  path(): string;
}

export class LogDamage {
  readonly counts: DamageCounts = noDamage();
  private readonly ranges = new Map<number, DamagedRange[]>();
  private readonly resolving = new Map<string, Promise<DamagedRange>>();

  constructor(
    private readonly logger: Logger,
    private readonly shared: DamageStats | undefined,
  ) {}

  /** Known damaged stretches of the segment at `baseOffset`, by position. */
  of(baseOffset: number): readonly DamagedRange[] {
    return this.ranges.get(baseOffset) ?? [];
  }

  /** Drops the stretches known in the segment at `baseOffset`: the cleaner replaced its file with a whole one. */
  forget(baseOffset: number): void {
    this.ranges.delete(baseOffset);
  }

  /** The known stretch that contains file position `pos`, if any. */
  at(baseOffset: number, pos: number): DamagedRange | undefined {
    return this.of(baseOffset).find((r) => r.fromPos <= pos && pos < r.toPos);
  }

  /**
   * The stretch that starts with the bad batch at `pos` (whose offset should be `expected`): up to the next
   * intact batch before `to` (its offsets below `endOffset`), or to `to`. Reported the first time it is seen.
   */
  resolve(
    seg: DamagedSegment,
    pos: number,
    expected: number,
    bound: DamageBound,
    problem: string,
    foundBy: FoundBy,
  ): Promise<DamagedRange> {
    const known = this.at(seg.baseOffset, pos);
    if (known) return Promise.resolve(known);
    const key = `${seg.baseOffset}:${pos}`;
    let pending = this.resolving.get(key);
    if (!pending) {
      pending = this.find(seg, pos, expected, bound).then((range) => {
        this.resolving.delete(key);
        this.record(seg, range, problem, foundBy);
        return this.at(seg.baseOffset, pos) ?? range;
      });
      this.resolving.set(key, pending);
    }
    return pending;
  }

  private async find(
    seg: DamagedSegment,
    pos: number,
    expected: number,
    bound: DamageBound,
  ): Promise<DamagedRange> {
    // where the bad batch claims to end: right after a flipped byte inside it, so tried first
    const len = Buffer.alloc(12);
    const got = await seg.fh.read(len, 0, 12, pos);
    const hint = got === 12 ? pos + 12 + len.readInt32BE(8) : -1;
    const atEnd = bound.offsetAtEnd ?? bound.endOffset;
    const resume = await findResume(seg.fh, pos, hint, {
      to: bound.to,
      minOffset: expected,
      maxBaseOffset: bound.endOffset + 1,
      offsetAtEnd: bound.offsetAtEnd === undefined ? bound.endOffset : null,
    });
    return resume
      ? { fromPos: pos, toPos: resume.pos, fromOffset: expected, toOffset: resume.baseOffset }
      : { fromPos: pos, toPos: bound.to, fromOffset: expected, toOffset: Math.max(expected, atEnd) };
  }

  /** Adds a stretch (unless one already covers its start), logs it and counts it. */
  record(seg: DamagedSegment, range: DamagedRange, problem: string, foundBy: FoundBy): void {
    if (this.at(seg.baseOffset, range.fromPos)) return;
    const list = [...this.of(seg.baseOffset), range].sort((a, b) => a.fromPos - b.fromPos);
    this.ranges.set(seg.baseOffset, list);
    const lost = range.toOffset - range.fromOffset;
    this.add({ corruptBatches: 1, corruptBytes: range.toPos - range.fromPos, lostOffsets: lost });
    this.logger.error(
      {
        file: seg.path(),
        position: range.fromPos,
        bytes: range.toPos - range.fromPos,
        fromOffset: range.fromOffset,
        toOffset: range.toOffset,
        problem,
        foundBy,
        corruptBatches: this.counts.corruptBatches,
      },
      `damaged data in ${seg.path()} at position ${range.fromPos} (${range.toPos - range.fromPos} bytes): ` +
        `offsets ${range.fromOffset} to ${range.toOffset - 1} are unreadable and skipped`,
    );
  }

  /** Offsets [fromOffset, toOffset) are gone with a whole file, not damaged in one. */
  missing(file: string, fromOffset: number, toOffset: number, why: string, segments = 0): void {
    this.add({ lostOffsets: toOffset - fromOffset, missingSegments: segments });
    this.logger.error(
      { file, fromOffset, toOffset, lostOffsets: toOffset - fromOffset },
      `${why}: offsets ${fromOffset} to ${toOffset - 1} are lost (${file})`,
    );
  }

  add(delta: Partial<DamageCounts>): void {
    for (const [k, v] of Object.entries(delta) as [keyof DamageCounts, number][]) {
      this.counts[k] += v;
      if (this.shared) this.shared.counts[k] += v;
    }
  }
}
