// usePoll: load now, then again every interval while the component is shown (and the tab visible).
// Invariant: the timer starts no load while one is in flight; the answer of an older load never overwrites
// a newer one.

import { useCallback, useEffect, useRef, useState } from "preact/hooks";

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: string | null;
  /** load again now (after an action changed what is shown) */
  readonly reload: () => void;
}

export function usePoll<T>(load: () => Promise<T>, intervalMs: number, key = ""): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const seq = useRef(0);
  const inFlight = useRef(false);
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(() => {
    const mine = ++seq.current;
    inFlight.current = true;
    loadRef.current().then(
      (d) => {
        if (mine !== seq.current) return;
        inFlight.current = false;
        setData(d);
        setError(null);
      },
      (e: unknown) => {
        if (mine !== seq.current) return;
        inFlight.current = false;
        setError(e instanceof Error ? e.message : String(e));
      },
    );
  }, []);
  useEffect(() => {
    setData(undefined);
    reload();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible" && !inFlight.current) reload();
    }, intervalMs);
    return () => {
      clearInterval(timer);
      seq.current += 1;
      inFlight.current = false;
    };
  }, [key, intervalMs, reload]);
  return { data, error, reload };
}
