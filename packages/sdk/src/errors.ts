// The errors the SDK defines for applications. Invariant: a NonRetryableError (or an error whose cause
// chain contains one) is never retried: it goes to the dead-letter queue on its first failure.

/** Throw it (or wrap a cause in it) from a handler to skip the remaining retries. */
export class NonRetryableError extends Error {
  override readonly name: string = "NonRetryableError";
}

/** A handler ran longer than its subscription's `timeoutMs`. Retried like any other failure. */
export class HandlerTimeoutError extends Error {
  override readonly name: string = "HandlerTimeoutError";
}

/** A request got no reply within its timeout. */
export class RequestTimeoutError extends Error {
  override readonly name: string = "RequestTimeoutError";
}

/** The circuit breaker is open: the message was handed back unprocessed and does not count as an attempt. */
export class CircuitOpenError extends Error {
  override readonly name: string = "CircuitOpenError";
}

/**
 * The broker delivered a message more than the subscription's `maxRedeliveries` times without it being
 * settled (its handler crashed the process, or outlived the broker's ack deadline, each time): it went to
 * the dead-letter queue without calling the handler again.
 */
export class RedeliveryLimitError extends Error {
  override readonly name: string = "RedeliveryLimitError";
}

export function isNonRetryable(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof NonRetryableError) return true;
  }
  return false;
}

/**
 * An append found its stream at another version than it expected: someone else wrote first. Load the
 * stream again and decide again (the event store's command handler does so by itself).
 */
export class ConflictError extends Error {
  override readonly name: string = "ConflictError";
  constructor(
    readonly streamId: string,
    readonly expected: number | string,
    readonly actual: number,
  ) {
    super(`stream "${streamId}" is at version ${actual}, not ${expected} as expected: someone else wrote it`);
  }
}
