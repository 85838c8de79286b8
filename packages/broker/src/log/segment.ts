// One segment: a file of record batches named by its base offset, plus its sparse indexes.
// Invariant: bytes below `visibleBytes` are acknowledged and readable; appends go at `size`.

import { join } from "node:path";
import type { Fs } from "../lib/index.ts";
import { scanBatches } from "./scan.ts";
import type { SegmentFile } from "./segment-file.ts";
import { type IndexSummary, SegmentIndex } from "./segment-index.ts";

export const SEGMENT_SUFFIX = ".log";
export const OFFSET_INDEX_SUFFIX = ".index";
export const TIME_INDEX_SUFFIX = ".timeindex";

export function segmentName(baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, "0")}${suffix}`;
}

export function parseSegmentName(name: string): number | null {
  const m = /^(\d{20})\.log$/.exec(name);
  return m ? Number(m[1]) : null;
}

export class Segment {
  /** acknowledged bytes; reads never go past them */
  visibleBytes: number;
  /** reads in progress; a deleted segment closes its file when the last one ends */
  readers = 0;
  deleted = false;
  /** being replaced by a cleaned copy: its name may already hold the copy, so only its open file is its own */
  retired = false;
  /**
   * The first bytes whose batches passed their CRC check in this process: appended (the log checks every
   * batch it takes), read through at recovery, or verified by a read or the scrubber. Reads do not check
   * them again (rot after that is the scrubber's to find, as in Kafka); past it they do.
   */
  checkedBytes = 0;

  constructor(
    readonly dir: string,
    readonly baseOffset: number,
    /** opened on use; the shared cache closes it while idle */
    readonly fh: SegmentFile,
    public size: number,
    public nextOffset: number,
    public maxTimestamp: number,
    /** null for a sealed segment whose index is not loaded right now */
    public index: SegmentIndex | null,
    /** when the active segment rolls by age */
    public rollAtMs: number,
  ) {
    this.visibleBytes = size;
  }

  path(suffix = SEGMENT_SUFFIX): string {
    return join(this.dir, segmentName(this.baseOffset, suffix));
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  summary(): IndexSummary {
    return { coveredBytes: this.size, nextOffset: this.nextOffset, maxTimestamp: this.maxTimestamp };
  }

  /** Writes both index files. They are checked against the segment on load, so no fsync is needed. */
  async writeIndexFiles(fs: Fs, index: SegmentIndex): Promise<void> {
    const { offsetIndex, timeIndex } = index.serialize(this.summary());
    await writeWhole(fs, this.path(OFFSET_INDEX_SUFFIX), offsetIndex);
    await writeWhole(fs, this.path(TIME_INDEX_SUFFIX), timeIndex);
  }

  /** Loads the index from its files, or null if they are missing, damaged or stale. */
  async readIndexFiles(
    fs: Fs,
    intervalBytes: number,
  ): Promise<{ index: SegmentIndex; summary: IndexSummary } | null> {
    try {
      const offsetIndex = await fs.readFile(this.path(OFFSET_INDEX_SUFFIX));
      const timeIndex = await fs.readFile(this.path(TIME_INDEX_SUFFIX));
      const loaded = SegmentIndex.deserialize(this.baseOffset, intervalBytes, offsetIndex, timeIndex);
      return loaded && loaded.summary.coveredBytes === this.size ? loaded : null;
    } catch {
      return null; // missing or unreadable: the caller rebuilds from the segment
    }
  }

  /** Rebuilds the index by reading the segment; returns where the first bad batch starts, if any. */
  async rebuildIndex(
    intervalBytes: number,
  ): Promise<{ index: SegmentIndex; problem: string | null; end: number; nextOffset: number }> {
    const index = new SegmentIndex(this.baseOffset, intervalBytes);
    const scan = await scanBatches(
      this.fh,
      // The default 1 MiB chunk: a 4 MiB one stayed in RSS as garbage after every log's recovery at start.
      { from: 0, to: this.size, expectedOffset: this.baseOffset, verifyCrc: true },
      (b) => {
        index.onBatch(b.baseOffset, b.pos, b.size, b.maxTimestamp);
        return true;
      },
    );
    return { index, ...scan };
  }
}

async function writeWhole(fs: Fs, path: string, data: Buffer): Promise<void> {
  const fh = await fs.open(path, "create");
  try {
    await fh.truncate(0);
    await fh.write(data, 0);
  } finally {
    await fh.close();
  }
}
