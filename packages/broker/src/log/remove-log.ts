// Deleting a whole log directory's files once its owner (a deleted queue) has closed the log.
// Invariant: only files directly in `dir` are removed, and the directory is fsynced afterwards.

import { join } from "node:path";
import type { Fs } from "../lib/index.ts";

export async function removeLogFiles(fs: Fs, dir: string): Promise<void> {
  if (!(await fs.exists(dir))) return;
  for (const name of await fs.readdir(dir)) await fs.unlink(join(dir, name));
  await fs.syncDir(dir);
}
