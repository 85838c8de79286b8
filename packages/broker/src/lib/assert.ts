// Programmer-error checks: a broken invariant stops the process (restart runs recovery).
// Never use for bad input from the network or disk; those are BrokerErrors.

export class AssertionError extends Error {
  override name = "AssertionError";
}

export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new AssertionError(msg);
}
