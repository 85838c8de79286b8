// Publisher confirms: one sequence number per publish, basic.ack once stored, basic.nack if storing failed.
// Invariant: confirms go out in sequence order, coalesced with `multiple` when a run of them is ready.

import { amqp } from "@spindle/protocol";
import type { Channel } from "./channel.ts";

/** A run of publishes, seq first..last, that wait on the same promise (one append batch). */
interface Pending {
  readonly stored: Promise<unknown>;
  readonly first: bigint;
  last: bigint;
  state: "waiting" | "ok" | "failed";
}

export class Confirms {
  private nextSeq = 1n;
  private readonly queue: Pending[] = [];
  private head = 0;

  constructor(private readonly ch: Channel) {}

  track(stored: Promise<unknown>): void {
    const seq = this.nextSeq++;
    const tail = this.queue[this.queue.length - 1];
    if (tail !== undefined && tail.stored === stored && tail.state === "waiting") {
      tail.last = seq;
      return;
    }
    const p: Pending = { stored, first: seq, last: seq, state: "waiting" };
    this.queue.push(p);
    stored.then(
      () => this.settle(p, "ok"),
      () => this.settle(p, "failed"),
    );
  }

  private settle(p: Pending, state: "ok" | "failed"): void {
    p.state = state;
    let lastOk: bigint | null = null;
    let count = 0;
    while (this.head < this.queue.length) {
      const h = this.queue[this.head] as Pending;
      if (h.state === "waiting") break;
      this.head++;
      if (h.state === "ok") {
        lastOk = h.last;
        count += Number(h.last - h.first) + 1;
        continue;
      }
      if (lastOk !== null) this.send(lastOk, count > 1, true);
      lastOk = null;
      count = 0;
      // everything before h.first is confirmed already, so `multiple` covers exactly this run
      this.send(h.last, h.last > h.first, false);
    }
    if (lastOk !== null) this.send(lastOk, count > 1, true);
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private send(seq: bigint, multiple: boolean, ok: boolean): void {
    if (!this.ch.isOpen) return;
    if (ok) this.ch.send(amqp.createMethod("basic.ack", { deliveryTag: seq, multiple }));
    else this.ch.send(amqp.createMethod("basic.nack", { deliveryTag: seq, multiple, requeue: false }));
  }
}
