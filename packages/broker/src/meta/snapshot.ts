// Snapshots of the meta state: `snapshot-<offset>.json` holds every entry as of that change-log offset.
// Invariant: a snapshot is written whole and durably (temp, fsync, rename) and carries a CRC of its body.

import { join } from "node:path";
import { crc32c, type Fs, writeFileDurably } from "../lib/index.ts";

export type Entries = [kind: string, key: string, value: unknown][];

export interface Snapshot {
  /** change-log offset the snapshot covers: replay starts here */
  offset: number;
  entries: Entries;
}

const NAME = /^snapshot-(\d{20})\.json$/;

export function snapshotName(offset: number): string {
  return `snapshot-${String(offset).padStart(20, "0")}.json`;
}

/** Offsets of the snapshots in `dir`, newest first. */
export async function listSnapshots(fs: Fs, dir: string): Promise<number[]> {
  const names = await fs.readdir(dir);
  return names
    .map((n) => NAME.exec(n)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
}

export async function writeSnapshot(fs: Fs, dir: string, snap: Snapshot): Promise<void> {
  const body = Buffer.from(JSON.stringify(snap));
  const out = Buffer.allocUnsafe(body.length + 4);
  out.writeUInt32BE(crc32c(body), 0);
  body.copy(out, 4);
  await writeFileDurably(fs, join(dir, snapshotName(snap.offset)), out);
}

/** The snapshot at `offset`, or null if it is damaged. */
export async function readSnapshot(fs: Fs, dir: string, offset: number): Promise<Snapshot | null> {
  const buf = await fs.readFile(join(dir, snapshotName(offset)));
  if (buf.length < 4 || crc32c(buf.subarray(4)) !== buf.readUInt32BE(0)) return null;
  const snap = JSON.parse(buf.subarray(4).toString("utf8")) as Snapshot;
  return snap.offset === offset ? snap : null;
}
