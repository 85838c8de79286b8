// What every log implementation checks before it takes a batch: one well-formed v2 batch with a
// matching CRC, no larger than a segment or the global batch limit. Bad input never reaches a file.

import { validateBatch } from "@spindle/protocol";
import { BrokerError, crc32c, LIMITS } from "../lib/index.ts";

export function checkAppendable(batch: Buffer, segmentBytes: number): void {
  const problem = validateBatch(batch, crc32c);
  if (problem) throw new BrokerError("CORRUPT_RECORD", `record batch rejected: ${problem}`);
  const limit = Math.min(LIMITS.batchBytesMax, segmentBytes);
  if (batch.length > limit) {
    throw new BrokerError("MESSAGE_TOO_LARGE", `record batch of ${batch.length} bytes exceeds ${limit}`);
  }
}
