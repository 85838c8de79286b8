// Reconnect backoff for the network adapters: exponential with equal jitter, capped. Invariant: every
// wait is between half and all of min(maxMs, initialMs · 2^attempt), so a fleet does not reconnect in step.

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const RECONNECT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000 };

/** The wait before reconnect attempt `attempt` (0 = the first after a drop). */
export function backoffMs(
  attempt: number,
  o: BackoffOptions = RECONNECT_BACKOFF,
  random = Math.random,
): number {
  const cap = Math.min(o.maxMs, o.initialMs * 2 ** Math.min(attempt, 30));
  return cap / 2 + random() * (cap / 2);
}
