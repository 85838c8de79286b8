// The delay tiers that brokers without per-message delays hold delayed copies in (RabbitMQ TTL queues,
// Kafka retry topics). Invariant: a copy waits in the smallest tier at least as long as its delay, so a
// tier's head is never due later than one tier after everything behind it was published.

/** Tier sizes in ms, 1-2-5 steps from 100 ms; a delay beyond the last waits in the last. */
export const DELAY_TIERS_MS: readonly number[] = [
  100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000,
  5_000_000, 10_000_000, 20_000_000, 50_000_000, 100_000_000,
];

/** The tier a delay waits in: the smallest at least as long, else the largest. */
export function delayTier(delayMs: number): number {
  for (const t of DELAY_TIERS_MS) if (t >= delayMs) return t;
  return DELAY_TIERS_MS[DELAY_TIERS_MS.length - 1] as number;
}

/** The SDK header that carries a delayed copy's due time (epoch ms), where the broker does not hold it. */
export const DUE_HEADER = "x-spindle-due-ms";
