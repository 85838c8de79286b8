// Durable definitions (vhosts, users, exchanges, queues, bindings, topics, offsets): a change log on
// the storage engine plus snapshots (periodic and at close). Invariant: a change resolves only once it is
// durable; the state after a restart is the newest good snapshot plus every change after it, in order, and
// a change after it that is damaged stops the start (never a state silently missing a definition).

import { join } from "node:path";
import { decodeRecords, readBatchHeader } from "@spindle/protocol";
import { BrokerError, type Clock, type Fs, LIMITS, type Logger, mkdirpDurably } from "../lib/index.ts";
import { type DamageWatch, DEFAULT_LOG_CONFIG, FileLog, type FsyncPolicy } from "../log/index.ts";
import {
  type Entries,
  listSnapshots,
  readSnapshot,
  type Snapshot,
  snapshotName,
  writeSnapshot,
} from "./snapshot.ts";

export interface MetaChange {
  kind: string;
  key: string;
  /** null deletes the entry */
  value: unknown;
}

export interface MetaStoreOptions {
  fs: Fs;
  dir: string;
  clock: Clock;
  logger: Logger;
  fsync: FsyncPolicy;
  /** write a snapshot after this many changes */
  snapshotEvery?: number;
  /** counts damage in the change log */
  watch?: DamageWatch;
}

const SNAPSHOTS_KEPT = 2;

interface ReadSnapshot {
  offset: number;
  /** null: damaged */
  snap: Snapshot | null;
}

/** Every snapshot, newest first, each read and checked once (damaged ones are null). */
async function readSnapshots(fs: Fs, dir: string, logger: Logger): Promise<ReadSnapshot[]> {
  const out: ReadSnapshot[] = [];
  for (const offset of await listSnapshots(fs, dir)) {
    const snap = await readSnapshot(fs, dir, offset).catch((err: unknown) => {
      logger.warn({ dir, offset, err }, "meta snapshot cannot be read");
      return null;
    });
    out.push({ offset, snap });
  }
  return out;
}

async function hasSegments(fs: Fs, dir: string): Promise<boolean> {
  if (!(await fs.exists(dir))) return false;
  return (await fs.readdir(dir)).some((n) => n.endsWith(".log"));
}
const CHANGES_DIR = "changes";

export class MetaStore {
  private readonly state = new Map<string, Map<string, unknown>>();
  private changesSinceSnapshot = 0;
  /** the state holds exactly the changes below this offset (continuations run in log order) */
  private appliedEnd = 0;
  private snapshotting: Promise<void> | null = null;

  private constructor(
    private readonly opts: MetaStoreOptions,
    private readonly log: FileLog,
  ) {}

  static async open(opts: MetaStoreOptions): Promise<MetaStore> {
    const { fs, dir, logger } = opts;
    await mkdirpDurably(fs, dir);
    const snapshots = await readSnapshots(fs, dir, logger);
    const newest = snapshots.find((s) => s.snap !== null)?.offset;
    const changesDir = join(dir, CHANGES_DIR);
    if (newest !== undefined && !(await hasSegments(fs, changesDir))) {
      logger.error(
        { dir: changesDir, snapshotOffset: newest },
        `meta change log ${changesDir} is missing: starting from the snapshot at change ${newest}; changes after it, if there were any, are lost`,
      );
    }
    const log = await FileLog.open({
      fs,
      dir: changesDir,
      clock: opts.clock,
      logger,
      config: { ...DEFAULT_LOG_CONFIG, segmentBytes: 64 * 1024 * 1024, retentionMs: -1, fsync: opts.fsync },
      // Changes below a snapshot were durable: damage there is stepped over (the snapshot holds their
      // effect), never cut off as if it were a torn write together with every change after it.
      ...(newest === undefined ? {} : { durableEndOffset: newest, startOffsetIfNew: newest }),
      ...opts.watch,
    });
    const store = new MetaStore(opts, log);
    const from = store.loadNewestSnapshot(snapshots);
    await store.replay(from ?? 0, from !== null);
    return store;
  }

  get(kind: string, key: string): unknown {
    return this.state.get(kind)?.get(key);
  }

  list(kind: string): [string, unknown][] {
    return [...(this.state.get(kind) ?? [])];
  }

  /** Applies the changes atomically (one batch: all or none survive a crash) once they are durable. */
  async apply(changes: readonly MetaChange[]): Promise<void> {
    if (changes.length === 0) return;
    const records = changes.map((c) => {
      const value = c.value === null ? null : Buffer.from(JSON.stringify(c.value));
      const key = Buffer.from(JSON.stringify([c.kind, c.key]));
      if (key.length + (value?.length ?? 0) > LIMITS.metaRecordBytesMax) {
        throw new BrokerError(
          "LIMIT_EXCEEDED",
          `definition ${c.kind}/${c.key} exceeds ${LIMITS.metaRecordBytesMax} bytes`,
        );
      }
      return { key, value };
    });
    const appended = await this.log.appendRecords(records);
    for (const c of changes) this.set(c.kind, c.key, c.value);
    this.appliedEnd = appended.lastOffset + 1;
    this.changesSinceSnapshot += changes.length;
    if (this.changesSinceSnapshot >= (this.opts.snapshotEvery ?? 10_000)) {
      // the change is durable and applied: a snapshot that fails (a full disk) is retried by a later change
      await this.snapshot().catch((err: unknown) => {
        this.changesSinceSnapshot = this.opts.snapshotEvery ?? 10_000;
        this.opts.logger.warn(
          { err, dir: this.opts.dir },
          "meta snapshot failed; retried after the next change",
        );
      });
    }
  }

  put(kind: string, key: string, value: unknown): Promise<void> {
    return this.apply([{ kind, key, value }]);
  }

  delete(kind: string, key: string): Promise<void> {
    return this.apply([{ kind, key, value: null }]);
  }

  private set(kind: string, key: string, value: unknown): void {
    let entries = this.state.get(kind);
    if (!entries) {
      entries = new Map();
      this.state.set(kind, entries);
    }
    if (value === null) entries.delete(key);
    else entries.set(key, value);
  }

  /** Writes the whole state as a snapshot, then drops change-log segments older than the oldest kept one. */
  async snapshot(): Promise<void> {
    this.snapshotting ??= this.writeSnapshotNow().finally(() => {
      this.snapshotting = null;
    });
    return this.snapshotting;
  }

  private async writeSnapshotNow(): Promise<void> {
    const { fs, dir } = this.opts;
    const offset = this.appliedEnd;
    const entries: Entries = [];
    for (const [kind, map] of this.state) for (const [key, value] of map) entries.push([kind, key, value]);
    this.changesSinceSnapshot = 0;
    await writeSnapshot(fs, dir, { offset, entries });
    const offsets = await listSnapshots(fs, dir);
    for (const old of offsets.slice(SNAPSHOTS_KEPT)) await fs.unlink(join(dir, snapshotName(old)));
    // Keep the changes after the older kept snapshot, so a damaged newest snapshot loses nothing.
    await this.log.deleteRecordsBefore(offsets[SNAPSHOTS_KEPT - 1] ?? 0);
  }

  /** The offset of the snapshot loaded, or null when none is usable. */
  private loadNewestSnapshot(snapshots: readonly ReadSnapshot[]): number | null {
    const { dir, logger } = this.opts;
    for (const { offset, snap } of snapshots) {
      if (snap && offset >= this.log.startOffset && offset <= this.log.endOffset) {
        for (const [kind, key, value] of snap.entries) this.set(kind, key, value);
        return offset;
      }
      logger.warn(
        { dir, offset },
        "meta snapshot is damaged or does not match the change log; trying an older one",
      );
    }
    if (this.log.startOffset > 0) {
      throw new BrokerError(
        "STORAGE_UNAVAILABLE",
        `meta store in ${dir} has no usable snapshot and its change log starts at ${this.log.startOffset}: definitions would be lost`,
      );
    }
    return null;
  }

  private async replay(from: number, fromSnapshot: boolean): Promise<void> {
    let offset = from;
    while (offset < this.log.endOffset) {
      const r = await this.log.read(offset, 1 << 20);
      const first = r.data.length > 0 ? readBatchHeader(r.data).baseOffset : r.nextOffset;
      if (first > offset) this.refuseDamaged(fromSnapshot ? from : null, offset, first);
      for (let pos = 0; pos < r.data.length; ) {
        const h = readBatchHeader(r.data, pos);
        const batch = r.data.subarray(pos, pos + 12 + h.batchLength);
        for (const rec of decodeRecords(batch)) {
          if (h.baseOffset + rec.offsetDelta < offset) continue;
          const [kind, key] = JSON.parse(rec.key!.toString()) as [string, string];
          this.set(kind, key, rec.value === null ? null : JSON.parse(rec.value.toString()));
          this.changesSinceSnapshot++;
        }
        pos += batch.length;
      }
      offset = r.nextOffset;
    }
    this.appliedEnd = offset;
  }

  /** Changes after the newest usable snapshot were skipped as damaged: their effect is unknown. */
  private refuseDamaged(snapshotOffset: number | null, from: number, to: number): never {
    const changes = join(this.opts.dir, CHANGES_DIR);
    const which = to - from === 1 ? `change ${from}` : `changes ${from} to ${to - 1}`;
    const covered =
      snapshotOffset === null
        ? "no intact snapshot exists"
        : `the newest intact snapshot is at change ${snapshotOffset}`;
    const without =
      snapshotOffset === null
        ? `move ${changes} away: the broker then starts with no definitions`
        : `move ${changes} away: the broker then starts from that snapshot, without the changes after it`;
    throw new BrokerError(
      "STORAGE_UNAVAILABLE",
      `meta change log ${changes}: ${which} is damaged (the error above names the file and position) and ` +
        `${covered}, so the definitions it made or removed cannot be recovered. Restore the data directory ` +
        `from a backup, or, to start anyway, ${without}.`,
      { dir: changes, from, to },
    );
  }

  async close(): Promise<void> {
    await this.snapshotting;
    // a snapshot of everything: after a clean stop, damage anywhere in the change log loses nothing
    if (this.changesSinceSnapshot > 0)
      await this.snapshot().catch((err: unknown) => this.snapshotFailed(err));
    await this.log.close();
  }

  private snapshotFailed(err: unknown): void {
    this.opts.logger.warn(
      { dir: this.opts.dir, err },
      "meta snapshot at close failed; the change log still has every change",
    );
  }
}
