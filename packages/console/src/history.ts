// A bounded series of (time, values) samples kept by a page while it is shown, for its charts.
// Invariant: at most `max` samples, oldest first; a sample is added once per distinct `at`.

import { useRef } from "preact/hooks";

export interface Series {
  readonly at: number[];
  readonly values: number[][];
}

/** Adds `values` at time `at` (ms) when `at` is new; returns the series so far. */
export function useHistory(at: number | undefined, values: readonly number[], max = 300): Series {
  const ref = useRef<{ at: number[]; values: number[][]; last: number | undefined }>({
    at: [],
    values: [],
    last: undefined,
  });
  const h = ref.current;
  if (at !== undefined && at !== h.last) {
    h.last = at;
    h.at.push(at);
    values.forEach((v, i) => {
      const column = h.values[i] ?? new Array<number>(h.at.length - 1).fill(Number.NaN);
      column.push(v);
      h.values[i] = column;
    });
    if (h.at.length > max) {
      h.at.shift();
      for (const column of h.values) column.shift();
    }
  }
  return { at: h.at, values: h.values };
}
