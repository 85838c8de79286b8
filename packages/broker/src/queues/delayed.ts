// x-delayed-message exchanges: a message with an `x-delay` header is held in a hidden durable queue and
// routed by the exchange's x-delayed-type when due. Invariant: a held message is acked in the hidden
// queue only after it has been routed, so a restart re-arms every message not yet released.

import type { Clock, TimerHandle } from "../lib/index.ts";
import type { QueueConsumer } from "./consumer.ts";
import { createMessage, type Message, type QueuedMessage } from "./message.ts";
import type { Queue } from "./queue.ts";

export const DELAYED_TYPE = "x-delayed-message";

export function delayedQueueName(exchange: string): string {
  return `amq.delayed.${exchange}`;
}

/** The x-delay header as a positive integer of milliseconds, or 0 (route at once). */
export function delayOf(headers: Readonly<Record<string, unknown>> | undefined): number {
  const d = headers?.["x-delay"];
  return typeof d === "number" && Number.isInteger(d) && d > 0 ? d : 0;
}

/** Consumes the hidden queue, holding each message in memory until it is due. */
export class DelayScheduler implements QueueConsumer {
  readonly tag = "spindle-delay-scheduler";
  readonly noAck = false;
  private held: { due: number; qm: QueuedMessage }[] = [];
  private timer: TimerHandle | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(
    private readonly queue: Queue,
    private readonly clock: Clock,
    private readonly release: (m: Message) => void,
  ) {}

  ready(): boolean {
    return true;
  }

  deliver(qm: QueuedMessage): void {
    const due = qm.enqueuedMs + qm.message.delayMs;
    let i = this.held.length;
    while (i > 0 && (this.held[i - 1] as { due: number }).due > due) i--;
    this.held.splice(i, 0, { due, qm });
    this.arm();
  }

  private arm(): void {
    const next = this.held[0]?.due;
    if (next === undefined || (this.timer !== undefined && this.armedFor <= next)) return;
    this.clock.clearTimer(this.timer);
    this.armedFor = next;
    this.timer = this.clock.setTimer(next - this.clock.nowMs(), () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.clock.nowMs();
    while (this.held.length > 0 && (this.held[0] as { due: number }).due <= now) {
      const { qm } = this.held.shift() as { qm: QueuedMessage };
      this.release(createMessage({ ...qm.message, delayMs: 0 }));
      this.queue.ack(qm);
    }
    this.arm();
  }

  cancelledByQueue(): void {
    this.stop();
  }

  stop(): void {
    this.clock.clearTimer(this.timer);
    this.held = [];
  }
}
