// A deadline for a promise in a test: a promise that nothing will settle fails the test instead of hanging it.
// Test support only. Invariant: the timer is always cleared, so a settled promise leaves nothing behind.

/** `p`'s outcome, or an error naming `what` once `ms` have passed (the timer keeps the process alive
 *  while the code under test waits on unref'd timers of its own). */
export async function within<T>(p: Promise<T>, ms = 5000, what = "the promise"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
