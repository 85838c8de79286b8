// A segment file handle with some of its calls replaced, for tests that hold or count a log's disk calls.

import type { FileHandle } from "../lib/index.ts";

/** `fh` with `read`, `write` or `writev` replaced by `hooks`; every other call goes to `fh`. */
export function hookHandle(
  fh: FileHandle,
  hooks: Partial<Pick<FileHandle, "read" | "write" | "writev">>,
): FileHandle {
  return {
    read: (buf, offset, length, position) => fh.read(buf, offset, length, position),
    write: (buf, position) => fh.write(buf, position),
    writev: (bufs, position) => fh.writev(bufs, position),
    datasync: () => fh.datasync(),
    truncate: (length) => fh.truncate(length),
    size: () => fh.size(),
    close: () => fh.close(),
    ...hooks,
  };
}
