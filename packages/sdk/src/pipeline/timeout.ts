// Per-attempt handler timeout: the attempt's signal aborts after `ms` and the attempt fails with a
// HandlerTimeoutError (retried like any failure). Invariant: the pipeline stops waiting at the deadline
// even if the handler ignores its signal; the outer signal is restored for the middleware outside.

import { HandlerTimeoutError } from "../errors.ts";
import type { Middleware } from "./context.ts";

export function timeoutMiddleware(ms: number): Middleware {
  if (!(ms > 0)) throw new RangeError(`timeoutMs must be > 0, got ${ms}`);
  return async (ctx, next) => {
    const outer = ctx.signal;
    const ac = new AbortController();
    const timer = ctx.clock.setTimer(ms, () =>
      ac.abort(new HandlerTimeoutError(`handler took longer than ${ms} ms`)),
    );
    ctx.signal = AbortSignal.any([outer, ac.signal]);
    try {
      await next();
    } finally {
      ctx.clock.clearTimer(timer);
      ctx.signal = outer;
    }
  };
}
