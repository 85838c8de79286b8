// Test doubles for the broker's injected I/O. Test support only: excluded from the build (tsconfig.build.json)
// and not exported by the package, so nothing in production can reach them.
export { FakeClock } from "./fake-clock.ts";
export { FaultFs, type FaultOp } from "./fault-fs.ts";
export { hookHandle } from "./hook-handle.ts";
export { RecordingLogger } from "./recording-logger.ts";
export { tempDir } from "./temp-dir.ts";
export { within } from "./within.ts";
