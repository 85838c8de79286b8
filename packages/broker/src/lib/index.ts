// lib/: the bottom layer. Everything above receives Clock, Fs and Rng as arguments.
// No import from any other broker folder.
export { AssertionError, assert } from "./assert.ts";
export { BURST_GAP_MS, Burst, isOutOfFds } from "./burst.ts";
export { type Clock, systemClock, TIMER_MS_MAX, type TimerHandle } from "./clock.ts";
export { type CompressionCodec, compress, decodeBatchRecords, decompress } from "./compression.ts";
export { type Admission, type Closable, ConnectionLimit } from "./connection-limit.ts";
export { crc32c } from "./crc32c.ts";
export { BrokerError, ERROR_CODES, type ErrorCode, isBrokerError } from "./errors.ts";
export { Fifo } from "./fifo.ts";
export { type FileHandle, type Fs, makeDirs, mkdirpDurably, nodeFs, writeFileDurably } from "./fs.ts";
export { lazySocketHandler, type SocketHandler } from "./lazy-socket-handler.ts";
export { LIMITS } from "./limits.ts";
export { type Logger, silentLogger } from "./logger.ts";
export { isLoopback } from "./loopback.ts";
export { MEMORY_KINDS, MemoryAccount, type MemoryKind } from "./memory-account.ts";
export { meteredFs } from "./metered-fs.ts";
export { mathRng, type Rng, seededRng } from "./rng.ts";
