// The check every adapter makes of what subscribe() is given, so each refuses bad options the same way.
// Invariant: a prefetch is a whole number ≥ 1 (0 would mean "unbounded" to some brokers and "none" to others).

import type { TransportSubscribeOptions } from "./transport.ts";

export function checkSubscribeOptions(options: TransportSubscribeOptions): void {
  if (!Number.isInteger(options.prefetch) || options.prefetch < 1) {
    throw new RangeError(`prefetch must be an integer ≥ 1, got ${options.prefetch}`);
  }
}
