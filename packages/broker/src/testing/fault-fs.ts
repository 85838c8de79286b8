// An in-memory Fs that models what a crash keeps: only data covered by datasync and names covered by
// syncDir are sure to survive; later writes may be dropped, torn, zero-filled or kept. Faults are injectable;
// a full disk (capacityBytes) stores the part of a write that fits before it fails, as a real one does.

import { basename, dirname } from "node:path";
import type { FileHandle, Fs, Rng } from "../lib/index.ts";

type PendingOp = { kind: "write"; pos: number; data: Buffer } | { kind: "truncate"; length: number };

class Inode {
  data: Buffer = Buffer.alloc(0);
  durable: Buffer = Buffer.alloc(0);
  pending: PendingOp[] = [];

  apply(op: PendingOp): void {
    this.data = applyOp(this.data, op);
    this.pending.push(op);
  }
  sync(): void {
    this.durable = Buffer.from(this.data);
    this.pending = [];
  }
}

function applyOp(data: Buffer, op: PendingOp): Buffer {
  if (op.kind === "truncate") {
    if (op.length <= data.length) return Buffer.from(data.subarray(0, op.length));
    return Buffer.concat([data, Buffer.alloc(op.length - data.length)]);
  }
  const end = op.pos + op.data.length;
  const out = end > data.length ? Buffer.concat([data, Buffer.alloc(end - data.length)]) : Buffer.from(data);
  op.data.copy(out, op.pos);
  return out;
}

function fsError(code: string, message: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  e.code = code;
  return e;
}

/** "truncate" is a truncate that shrinks a file: it needs no space, so a full disk allows it. */
export type FaultOp = "write" | "truncate" | "datasync" | "syncDir" | "open";

export class FaultFs implements Fs {
  private names = new Map<string, Inode>();
  private durableNames = new Map<string, Inode>();
  private dirs = new Set<string>(["/"]);
  /** directories whose entry in their parent was fsynced: only these survive a crash */
  private durableDirs = new Set<string>(["/"]);
  /** Set by crash(): this instance is the process that died, and every later call fails. */
  private dead = false;
  private failures = new Map<FaultOp, NodeJS.ErrnoException>();
  /** Bytes the fake disk holds before writes fail with ENOSPC; Infinity by default. */
  capacityBytes = Number.POSITIVE_INFINITY;
  /** Counts of operations, so tests can assert that durability actually called the disk. */
  readonly calls = { write: 0, datasync: 0, syncDir: 0 };

  /** The next `op` fails with `code` (e.g. EIO, ENOSPC) and stays failing until cleared. */
  failOn(op: FaultOp, code = "EIO"): void {
    this.failures.set(op, fsError(code, `injected ${op} failure`));
  }
  clearFailures(): void {
    this.failures.clear();
  }

  /**
   * Simulates power loss. Returns the disk as the next process finds it: names as of the last
   * syncDir, each file with its durable bytes plus a random prefix of later writes, the last of
   * which may be torn or zero-filled. This instance dies: the old process can do nothing more.
   */
  crash(rng: Rng): FaultFs {
    this.dead = true;
    const next = new FaultFs();
    // A directory survives only if its entry and every ancestor's entry were synced.
    const survives = (d: string): boolean => d === "/" || (this.durableDirs.has(d) && survives(dirname(d)));
    next.dirs = new Set([...this.durableDirs].filter(survives));
    next.durableDirs = new Set(next.dirs);
    next.capacityBytes = this.capacityBytes;
    const survivors = new Map<Inode, Inode>();
    for (const [path, inode] of this.durableNames) {
      if (!next.dirs.has(dirname(path))) continue;
      let fresh = survivors.get(inode);
      if (!fresh) {
        fresh = new Inode();
        fresh.data = crashContent(inode, rng);
        fresh.sync();
        survivors.set(inode, fresh);
      }
      next.names.set(path, fresh);
      next.durableNames.set(path, fresh);
    }
    return next;
  }

  /** An independent copy of everything as it is now (all of it durable in the copy). */
  clone(): FaultFs {
    const copy = new FaultFs();
    copy.dirs = new Set(this.dirs);
    copy.durableDirs = new Set(this.dirs);
    for (const [path, inode] of this.names) {
      const fresh = new Inode();
      fresh.data = Buffer.from(inode.data);
      fresh.sync();
      copy.names.set(path, fresh);
      copy.durableNames.set(path, fresh);
    }
    return copy;
  }

  /** @internal also used by handles */
  check(op: FaultOp | null): void {
    if (this.dead) throw fsError("EIO", "the process crashed");
    const failure = op && this.failures.get(op);
    if (failure) throw failure;
  }

  /** Bytes all files hold now (what capacityBytes limits). */
  usedBytes(): number {
    let n = 0;
    for (const inode of new Set(this.names.values())) n += inode.data.length;
    return n;
  }

  async open(path: string, mode: "r" | "rw" | "create", dsync = false): Promise<FileHandle> {
    this.check("open");
    let inode = this.names.get(path);
    if (!inode) {
      if (mode !== "create") throw fsError("ENOENT", `no such file: ${path}`);
      if (!this.dirs.has(dirname(path))) throw fsError("ENOENT", `no such directory: ${dirname(path)}`);
      inode = new Inode();
      this.names.set(path, inode);
    }
    return new FaultHandle(this, inode, mode === "r", dsync);
  }

  /** @internal used by handles: how many bytes a write at `pos` can store before the disk is full */
  roomAt(inode: Inode, pos: number): number {
    return Math.max(0, inode.data.length - pos + this.capacityBytes - this.usedBytes());
  }

  async readdir(dir: string): Promise<string[]> {
    this.check(null);
    if (!this.dirs.has(dir)) throw fsError("ENOENT", `no such directory: ${dir}`);
    const out: string[] = [];
    for (const path of this.names.keys()) if (dirname(path) === dir) out.push(basename(path));
    for (const d of this.dirs) if (d !== dir && dirname(d) === dir) out.push(basename(d));
    return out.sort();
  }

  /** New directories are volatile until their parent is synced, like files' names. */
  async mkdirp(dir: string): Promise<void> {
    this.check(null);
    for (let d = dir; !this.dirs.has(d); d = dirname(d)) this.dirs.add(d);
  }

  async exists(path: string): Promise<boolean> {
    this.check(null);
    return this.names.has(path) || this.dirs.has(path);
  }

  async unlink(path: string): Promise<void> {
    this.check(null);
    if (!this.names.delete(path)) throw fsError("ENOENT", `no such file: ${path}`);
  }

  async rename(from: string, to: string): Promise<void> {
    this.check(null);
    const inode = this.names.get(from);
    if (!inode) throw fsError("ENOENT", `no such file: ${from}`);
    this.names.delete(from);
    this.names.set(to, inode);
  }

  async syncDir(dir: string): Promise<void> {
    this.check("syncDir");
    this.calls.syncDir++;
    for (const path of [...this.durableNames.keys()]) {
      if (dirname(path) === dir) this.durableNames.delete(path);
    }
    for (const [path, inode] of this.names) if (dirname(path) === dir) this.durableNames.set(path, inode);
    for (const d of this.dirs) if (d !== dir && dirname(d) === dir) this.durableDirs.add(d);
  }

  async readFile(path: string): Promise<Buffer> {
    this.check(null);
    const inode = this.names.get(path);
    if (!inode) throw fsError("ENOENT", `no such file: ${path}`);
    return Buffer.from(inode.data);
  }

  /** Test access to raw bytes, e.g. to flip bits in a segment. */
  rawFile(path: string): Buffer | undefined {
    return this.names.get(path)?.data;
  }
  setRawFile(path: string, data: Buffer): void {
    const inode = this.names.get(path);
    if (!inode) throw fsError("ENOENT", `no such file: ${path}`);
    inode.data = Buffer.from(data);
    inode.sync();
  }
}

function crashContent(inode: Inode, rng: Rng): Buffer {
  let data: Buffer = Buffer.from(inode.durable);
  const kept = rng.int(inode.pending.length + 1);
  for (let i = 0; i < kept; i++) data = applyOp(data, inode.pending[i]!);
  const next = inode.pending[kept];
  if (next?.kind === "write" && rng.next() < 0.5) {
    // A torn write: a prefix of the bytes reached the disk, either as written or as zeros.
    const cut = rng.int(next.data.length);
    const bytes = rng.next() < 0.5 ? next.data.subarray(0, cut) : Buffer.alloc(cut);
    data = applyOp(data, { kind: "write", pos: next.pos, data: bytes });
  }
  return data;
}

class FaultHandle implements FileHandle {
  private closed = false;
  constructor(
    private readonly fs: FaultFs,
    private readonly inode: Inode,
    private readonly readOnly: boolean,
    /** O_DSYNC: each write is followed by a datasync (which may fail on its own, as a flush can) */
    private readonly dsync: boolean,
  ) {}

  private guard(op: FaultOp | null): void {
    if (this.closed) throw fsError("EBADF", "handle is closed");
    this.fs.check(op);
  }

  async read(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    this.guard(null);
    const n = Math.max(0, Math.min(length, this.inode.data.length - position));
    this.inode.data.copy(buf, offset, position, position + n);
    return n;
  }
  async write(buf: Buffer, position: number): Promise<void> {
    this.guard("write");
    if (this.readOnly) throw fsError("EBADF", "file opened read-only");
    // A full disk takes what fits and then fails, as a short write followed by ENOSPC does.
    const room = this.fs.roomAt(this.inode, position);
    const fits = room >= buf.length ? buf : buf.subarray(0, room);
    if (fits.length > 0) {
      this.fs.calls.write++;
      this.inode.apply({ kind: "write", pos: position, data: Buffer.from(fits) });
      if (this.dsync) await this.datasync();
    }
    if (fits.length < buf.length) throw fsError("ENOSPC", "no space left on device");
  }
  writev(bufs: readonly Buffer[], position: number): Promise<void> {
    return this.write(Buffer.concat(bufs), position);
  }
  async datasync(): Promise<void> {
    this.guard("datasync");
    this.fs.calls.datasync++;
    this.inode.sync();
  }
  async truncate(length: number): Promise<void> {
    this.guard(length <= this.inode.data.length ? "truncate" : "write");
    this.inode.apply({ kind: "truncate", length });
  }
  async size(): Promise<number> {
    this.guard(null);
    return this.inode.data.length;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}
