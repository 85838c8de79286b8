// What the Kafka adapter calls things: the topic itself, a consumer group per (topic, group), and per
// group a few retry topics (one per delay tier) that hold copies for that group alone until due.
// Invariant: the same topic and group give the same names everywhere, so every member joins one group.

/** Retry-topic tiers: a copy waits in the smallest at least as long as its delay (else the last). Few,
 * because a group consumes all of them: 10× apart, so a copy behind a tier's head waits < 1 tier extra. */
export const KAFKA_TIERS_MS: readonly number[] = [1_000, 10_000, 100_000, 1_000_000, 10_000_000];

export function kafkaTier(delayMs: number): number {
  for (const t of KAFKA_TIERS_MS) if (t >= delayMs) return t;
  return KAFKA_TIERS_MS[KAFKA_TIERS_MS.length - 1] as number;
}

/** Kafka group ids are global: one per (topic, group), as Spring Cloud Stream's `destination.group`. */
export function groupId(topic: string, group: string): string {
  return `${topic}.${group}`;
}

/** Where copies for `group` alone wait for `tierMs` (`<topic>.<group>.retry-<ms>`). */
export function retryTopic(topic: string, group: string, tierMs: number): string {
  return `${topic}.${group}.retry-${tierMs}`;
}

export function retryTopics(topic: string, group: string): string[] {
  return KAFKA_TIERS_MS.map((t) => retryTopic(topic, group, t));
}

/** The group that take() leases a dead-letter topic's records through. */
export function takeGroup(queue: string): string {
  return `${queue}.take`;
}

/** close(true): leave at once, without waiting for in-flight requests (the callback form; errors ignored). */
export function closeNow(
  c: { close(force: boolean, callback: (error?: Error | null) => void): void } | undefined,
): Promise<void> {
  return new Promise((resolve) => (c === undefined ? resolve() : c.close(true, () => resolve())));
}
