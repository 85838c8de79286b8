// Opens the data directory: creates it, proves it writable, and locks it for this process.
// Invariant: two brokers never share a data dir; the LOCK file holds the pid of the one that owns it.

import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  BrokerError,
  type Fs,
  LIMITS,
  type Logger,
  makeDirs,
  meteredFs,
  nodeFs,
  systemClock,
} from "../lib/index.ts";
import { DamageStats, Scrubber, SyncLatency } from "../log/index.ts";
import { MetaStore } from "../meta/index.ts";
import type { BrokerConfig } from "./config.ts";

export type Storage = {
  readonly dataDir: string;
  /** the data dir's file system (node:fs): every store writes through it, so its writes can be counted */
  readonly fs: Fs;
  /** Calls `listener` with the size of each write to a data file, before it is made (the disk alarm). */
  onWrite(listener: (bytes: number) => void): void;
  readonly meta: MetaStore;
  /** damage counters of every log, the background verifier of their sealed segments, their sync latencies */
  readonly watch: {
    readonly damageStats: DamageStats;
    readonly scrubber: Scrubber;
    readonly syncLatency: SyncLatency;
  };
  /** Flushes and closes everything opened here, then releases the lock. Idempotent. */
  close(): Promise<void>;
};

export const LOCK_FILE = "LOCK";

/** Data dirs this process holds: the pid in LOCK cannot tell two opens in one process apart. */
const heldByThisProcess = new Set<string>();

const REASONS: Readonly<Record<string, string>> = {
  ENOTDIR: "a path component is not a directory",
  EEXIST: "exists and is not a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  // mkdir of a path whose parent exists: a file system that holds no files of ours, like /proc
  ENOENT: "this file system does not allow creating it",
};

function unavailable(message: string, dataDir: string, e?: unknown): BrokerError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const text = code ? `${message} (${REASONS[code] ?? code})` : message;
  return new BrokerError("STORAGE_UNAVAILABLE", text, { dataDir, code });
}

/** Writes `text` to a new file and fsyncs it; fails if the file exists. */
function writeNewFileSync(path: string, text: string): void {
  const fd = openSync(path, "wx", 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Proves the directory takes a durable write: write, fsync, unlink a probe file. */
function probeWritable(dataDir: string): void {
  const probe = join(dataDir, `.probe-${process.pid}`);
  try {
    writeNewFileSync(probe, "probe");
    unlinkSync(probe);
  } catch (e) {
    throw unavailable(`data directory ${dataDir} is not writable`, dataDir, e);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLockPid(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Tries once to hard-link a complete pid file to LOCK: atomic, and no reader ever sees a half-written LOCK. */
function tryLink(dataDir: string): boolean {
  const temp = join(dataDir, `${LOCK_FILE}.${process.pid}`);
  writeNewFileSync(temp, `${process.pid}\n`);
  try {
    linkSync(temp, join(dataDir, LOCK_FILE));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    unlinkSync(temp);
  }
}

/**
 * Takes LOCK; a lock left by a dead process is replaced, a live owner is named in the error. A LOCK holding
 * our own pid is stale too (a restarted container often gets the same pid), unless this process holds it.
 */
function acquireLock(dataDir: string): void {
  if (heldByThisProcess.has(dataDir)) {
    throw unavailable(`data directory ${dataDir} is in use by this process (pid ${process.pid})`, dataDir);
  }
  const lockPath = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryLink(dataDir)) {
      heldByThisProcess.add(dataDir);
      return;
    }
    const owner = readLockPid(lockPath);
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
      throw unavailable(`data directory ${dataDir} is in use by another broker (pid ${owner})`, dataDir);
    }
    unlinkSync(lockPath);
  }
  throw unavailable(`data directory ${dataDir}: could not take ${LOCK_FILE}`, dataDir);
}

/** Removes LOCK only if it is still ours, so a broker never unlocks a directory another one took. */
function releaseLock(dataDir: string): void {
  const lockPath = join(dataDir, LOCK_FILE);
  if (readLockPid(lockPath) === process.pid) unlinkSync(lockPath);
  heldByThisProcess.delete(dataDir);
}

async function createDataDir(dataDir: string): Promise<void> {
  try {
    await makeDirs(dataDir);
  } catch (e) {
    throw unavailable(`cannot create data directory ${dataDir}`, dataDir, e);
  }
}

function lockDataDir(dataDir: string): void {
  try {
    acquireLock(dataDir);
  } catch (e) {
    if (e instanceof BrokerError) throw e;
    throw unavailable(`cannot lock data directory ${dataDir}`, dataDir, e);
  }
}

/** Creates, probes and locks the data dir, then opens the stores in it; closes them in reverse order. */
export async function openStorage(
  config: Pick<BrokerConfig, "dataDir" | "fsync">,
  logger: Logger,
): Promise<Storage> {
  const dataDir = resolve(config.dataDir);
  await createDataDir(dataDir);
  probeWritable(dataDir);
  lockDataDir(dataDir);
  let writeListener = (_bytes: number): void => undefined;
  const fs = meteredFs(nodeFs, (bytes) => writeListener(bytes));
  try {
    const { fsync } = config;
    const scrubber = new Scrubber({
      clock: systemClock,
      logger,
      bytesPerSec: LIMITS.verifyBytesPerSec,
      startDelayMs: LIMITS.verifyStartDelayMs,
    });
    const watch = { damageStats: new DamageStats(), scrubber, syncLatency: new SyncLatency() };
    const meta = await MetaStore.open({
      fs,
      dir: join(dataDir, "meta"),
      clock: systemClock,
      logger,
      fsync,
      watch,
    });
    scrubber.start();
    let closed: Promise<void> | undefined;
    const close = async (): Promise<void> => {
      try {
        await scrubber.stop();
        await meta.close();
      } finally {
        releaseLock(dataDir);
      }
    };
    const onWrite = (listener: (bytes: number) => void) => {
      writeListener = listener;
    };
    return { dataDir, fs, onWrite, meta, watch, close: () => (closed ??= close()) };
  } catch (e) {
    releaseLock(dataDir);
    throw e;
  }
}
