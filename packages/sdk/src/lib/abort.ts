// Waiting on a promise until an AbortSignal aborts, without an EventTarget listener per wait. Invariant:
// a signal gets at most one listener from here, however many waits it has, and a settled wait leaves no
// reference behind.
//
// A subscription's stop signal is shared by every running handler: adding and removing a listener per
// message was a measurable part of the SDK's CPU per message, and the listeners piled up on it.

type Waiter = (reason: unknown) => void;

const waiting = new WeakMap<AbortSignal, Set<Waiter>>();

function waitersOf(signal: AbortSignal): Set<Waiter> {
  let set = waiting.get(signal);
  if (set === undefined) {
    const s = new Set<Waiter>();
    set = s;
    waiting.set(signal, s);
    signal.addEventListener(
      "abort",
      () => {
        for (const w of [...s]) w(signal.reason);
        s.clear();
      },
      { once: true },
    );
  }
  return set;
}

/** `p`'s outcome, or a rejection with the signal's reason as soon as it aborts (whichever comes first). */
export function untilAborted<T>(p: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const waiters = waitersOf(signal);
    waiters.add(reject);
    p.then(
      (v) => {
        waiters.delete(reject);
        resolve(v);
      },
      (e: unknown) => {
        waiters.delete(reject);
        reject(e);
      },
    );
  });
}
