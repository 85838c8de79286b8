// The file-system surface the log needs, and its real implementation on node:fs.
// Only log/ and meta/ receive an Fs; a fault-injecting fake (fault-fs.ts) implements the same surface.

import { constants, fdatasync, promises as fsp, read, write, writev } from "node:fs";
import { dirname } from "node:path";

export interface FileHandle {
  /** Reads up to `length` bytes at `position`; returns how many were read (0 at end of file). */
  read(buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Writes all of `buf` at `position`. */
  write(buf: Buffer, position: number): Promise<void>;
  /** Writes all of `bufs`, back to back, at `position` (one system call where it can: no copy). */
  writev(bufs: readonly Buffer[], position: number): Promise<void>;
  /** fdatasync: once it resolves, every write before it survives a crash. */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface Fs {
  /** "r" read only; "rw" read/write, must exist; "create" read/write, created if missing. With `dsync`
   *  a write returns only once its data is durable (O_DSYNC): write and fdatasync in one system call. */
  open(path: string, mode: "r" | "rw" | "create", dsync?: boolean): Promise<FileHandle>;
  readdir(dir: string): Promise<string[]>;
  mkdirp(dir: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** fsync the directory itself, making creates, renames and deletes in it durable. */
  syncDir(dir: string): Promise<void>;
  readFile(path: string): Promise<Buffer>;
}

const OPEN_FLAGS = {
  r: constants.O_RDONLY,
  rw: constants.O_RDWR,
  create: constants.O_RDWR | constants.O_CREAT,
} as const;

/** Linux's limit on buffers per writev; libuv splits longer lists into several calls. */
const IOV_MAX = 1024;

/** A node callback as a promise (the callback API costs less per call than fs/promises' FileHandle). */
function done<T>(start: (cb: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => start((err, value) => (err ? reject(err) : resolve(value))));
}

class NodeFileHandle implements FileHandle {
  private readonly fd: number;
  constructor(private readonly fh: fsp.FileHandle) {
    this.fd = fh.fd;
  }
  read(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    return done<number>((cb) => read(this.fd, buf, offset, length, position, cb));
  }
  // Writes stay on the thread pool even when small: on the event loop a write can wait in the kernel behind
  // an fdatasync of the same file (an ack log syncs on a timer while appends go on) and stall every
  // connection (measured: 15-30 ms stalls at 5,000 msg/s).
  async write(buf: Buffer, position: number): Promise<void> {
    for (let at = 0; at < buf.length; ) {
      at += await done<number>((cb) => write(this.fd, buf, at, buf.length - at, position + at, cb));
    }
  }
  async writev(parts: readonly Buffer[], position: number): Promise<void> {
    // More than IOV_MAX buffers take several system calls, and on an O_DSYNC file each one syncs:
    // one copy into a single buffer costs less than the extra syncs.
    const bufs = parts.length > IOV_MAX ? [Buffer.concat(parts)] : parts;
    const total = bufs.reduce((n, b) => n + b.length, 0);
    const written = await done<number>((cb) => writev(this.fd, bufs as Buffer[], position, cb));
    if (written < total) {
      // A short write is rare (a signal, a full disk on the way): finish it with plain writes.
      await this.write(Buffer.concat(bufs).subarray(written), position + written);
    }
  }
  datasync(): Promise<void> {
    return done<void>((cb) => fdatasync(this.fd, (err) => cb(err, undefined)));
  }
  truncate(length: number): Promise<void> {
    return this.fh.truncate(length);
  }
  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

/**
 * mkdir -p without Node's `recursive: true`, which loops forever where mkdir fails with ENOENT although the
 * parent exists (/proc, /sys): here that ENOENT is thrown. Each missing ancestor is made on the way back.
 */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await fsp.mkdir(dir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST" && (await fsp.stat(dir)).isDirectory()) return;
    if (code !== "ENOENT") throw e;
    const parent = dirname(dir);
    if (parent === dir || (await isDirectory(parent))) throw e;
  }
  await makeDirs(dirname(dir));
  try {
    await fsp.mkdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST" || !(await isDirectory(dir))) throw e;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await fsp.stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export const nodeFs: Fs = {
  async open(path, mode, dsync = false) {
    const flags = OPEN_FLAGS[mode] | (dsync ? constants.O_DSYNC : 0);
    return new NodeFileHandle(await fsp.open(path, flags, 0o644));
  },
  readdir: (dir) => fsp.readdir(dir),
  mkdirp: (dir) => makeDirs(dir),
  async exists(path) {
    try {
      await fsp.access(path);
      return true;
    } catch {
      return false;
    }
  },
  unlink: (path) => fsp.unlink(path),
  async rename(from, to) {
    await fsp.rename(from, to);
  },
  async syncDir(dir) {
    const fh = await fsp.open(dir, constants.O_RDONLY);
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  readFile: (path) => fsp.readFile(path),
};

/**
 * Creates `dir` and any missing parents so that they survive a crash: each new directory's entry
 * is fsynced in its parent (a file fsynced inside a directory whose own entry is lost is lost too).
 */
export async function mkdirpDurably(fs: Fs, dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; !(await fs.exists(d)); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  if (missing.length === 0) return;
  await fs.mkdirp(dir);
  for (const d of missing) await fs.syncDir(dirname(d));
}

/** Writes a small file atomically and durably: temp file, fdatasync, rename, fsync of the directory. */
export async function writeFileDurably(fs: Fs, path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await fs.open(tmp, "create");
  try {
    await fh.truncate(0);
    await fh.write(data, 0);
    await fh.datasync();
  } catch (e) {
    // a full disk: the part written would hold on to space until the next start
    await fh.close();
    await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await fs.rename(tmp, path);
  await fs.syncDir(dirname(path));
}
