// What a queue needs from whoever consumes it (an AMQP channel's consumer, a test): flow control and delivery.
// Invariant: a queue calls deliver only when ready() said yes in the same turn.

import type { QueuedMessage } from "./message.ts";

export interface QueueConsumer {
  readonly tag: string;
  readonly noAck: boolean;
  /** true when it may take one more message now (prefetch, socket back-pressure) */
  ready(): boolean;
  deliver(m: QueuedMessage): void;
  /** the queue was deleted under it */
  cancelledByQueue(): void;
}
