// An Fs that reports the bytes of every data write before making it (for the disk alarm's accounting).
// Invariant: behaves exactly as the Fs it wraps; the listener only hears sizes and cannot fail a write.

import type { FileHandle, Fs } from "./fs.ts";

export function meteredFs(inner: Fs, onWrite: (bytes: number) => void): Fs {
  const handle = (fh: FileHandle): FileHandle => ({
    read: (buf, offset, length, position) => fh.read(buf, offset, length, position),
    write(buf, position) {
      onWrite(buf.length);
      return fh.write(buf, position);
    },
    writev(bufs, position) {
      let n = 0;
      for (const b of bufs) n += b.length;
      onWrite(n);
      return fh.writev(bufs, position);
    },
    datasync: () => fh.datasync(),
    truncate: (length) => fh.truncate(length),
    size: () => fh.size(),
    close: () => fh.close(),
  });
  return {
    open: async (path, mode, dsync) => handle(await inner.open(path, mode, dsync)),
    readdir: (dir) => inner.readdir(dir),
    mkdirp: (dir) => inner.mkdirp(dir),
    exists: (path) => inner.exists(path),
    unlink: (path) => inner.unlink(path),
    rename: (from, to) => inner.rename(from, to),
    syncDir: (dir) => inner.syncDir(dir),
    readFile: (path) => inner.readFile(path),
  };
}
