// How long the logs' syncs to disk take: a histogram with fixed buckets that /metrics exposes.
// Invariant: observing allocates nothing (it runs on every group commit) and counts only syncs that succeeded.

/** Upper bounds of the buckets in seconds, from 100 µs (a fast NVMe fdatasync) to 2.5 s (a stalled disk). */
export const SYNC_BUCKETS_S: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/** One for the whole broker; the composition root hands it to every log. */
export class SyncLatency {
  /** syncs per bucket (not cumulative); the last slot counts those slower than every bound */
  readonly buckets = new Float64Array(SYNC_BUCKETS_S.length + 1);
  count = 0;
  sumSeconds = 0;

  /** `now`: a monotonic clock in ms (tests pass their own) */
  constructor(readonly now: () => number = () => performance.now()) {}

  /** Records a sync that started at `startMs` (from `now()`) and has just finished. */
  since(startMs: number): void {
    this.observe((this.now() - startMs) / 1000);
  }

  observe(seconds: number): void {
    let i = 0;
    while (i < SYNC_BUCKETS_S.length && seconds > SYNC_BUCKETS_S[i]!) i++;
    this.buckets[i] = this.buckets[i]! + 1;
    this.count++;
    this.sumSeconds += seconds;
  }
}
