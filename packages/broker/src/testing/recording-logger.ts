// A Logger that keeps every entry, for tests that check what the broker reported.
// Test support only: not built into dist/ and not exported by any package.

import type { Logger } from "../lib/index.ts";

/** Keeps every entry, for tests that check what recovery reported. */
export class RecordingLogger implements Logger {
  readonly entries: { level: "info" | "warn" | "error"; msg: string; obj: object }[] = [];
  info(obj: object, msg: string): void {
    this.entries.push({ level: "info", msg, obj });
  }
  warn(obj: object, msg: string): void {
    this.entries.push({ level: "warn", msg, obj });
  }
  error(obj: object, msg: string): void {
    this.entries.push({ level: "error", msg, obj });
  }
}
