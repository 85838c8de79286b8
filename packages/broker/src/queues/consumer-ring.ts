// A queue's consumers and whose turn it is: round robin, or the first one alone under single-active-consumer.
// Invariant: a consumer is picked only when its ready() says yes in that same call.

import type { QueueConsumer } from "./consumer.ts";

export class ConsumerRing {
  private readonly consumers: QueueConsumer[] = [];
  /** where the next round-robin search starts */
  private rr = 0;

  constructor(private readonly singleActive: boolean) {}

  get size(): number {
    return this.consumers.length;
  }

  add(c: QueueConsumer): void {
    this.consumers.push(c);
  }

  /** Returns true when that was the last consumer. */
  remove(c: QueueConsumer): boolean {
    const i = this.consumers.indexOf(c);
    if (i >= 0) this.consumers.splice(i, 1);
    return this.consumers.length === 0;
  }

  /** The consumer to deliver to next, or undefined when none may take a message now. Under single-active
   *  only the oldest consumer is ever picked: the others wait for it to go. */
  nextReady(): QueueConsumer | undefined {
    if (this.singleActive) {
      const active = this.consumers[0];
      return active?.ready() ? active : undefined;
    }
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) {
      const c = this.consumers[(this.rr + i) % n] as QueueConsumer;
      if (c.ready()) {
        this.rr = (this.rr + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  /** Removes every consumer and returns them. */
  clear(): QueueConsumer[] {
    return this.consumers.splice(0);
  }
}
