// The logging surface lower layers receive (pino's `(obj, msg)` shape), so they never import pino.
// server/ passes a pino logger; tests pass silentLogger or testing/RecordingLogger.

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
