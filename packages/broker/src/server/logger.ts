// The process logger: pino, JSON lines, written synchronously to stderr.
// Invariant: stdout carries only the ready line (and --help/--version), so scripts can parse it.

import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(level = "info"): Logger {
  return pino({ name: "spindle", level }, pino.destination({ dest: 2, sync: true }));
}
