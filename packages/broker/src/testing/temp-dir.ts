// Temporary directories for tests that need a real filesystem. Test support only.
// Invariant: every directory made here is removed when the test process exits.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];
process.on("exit", () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A new empty directory under the OS temp dir, named `spindle-<what>-…`. */
export function tempDir(what: string): string {
  const dir = mkdtempSync(join(tmpdir(), `spindle-${what}-`));
  made.push(dir);
  return dir;
}
