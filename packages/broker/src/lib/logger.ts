// The logging surface lower layers receive (pino's `(obj, msg)` shape), so they never import pino.
// server/ passes a pino logger; tests pass silentLogger or a recorder.

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

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
