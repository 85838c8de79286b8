// Publisher confirms: one sequence number per publish, basic.ack once stored, basic.nack if storing failed.
// Invariant: confirms go out in sequence order, coalesced with `multiple` when a run of them is ready.

import * as amqp from "@spindle/protocol/amqp";
import { Fifo } from "../../lib/index.ts";
import type { ChannelContext } from "./channel-context.ts";

/** A run of publishes, seq first..last, that wait on the same promise (one append batch). */
interface Pending {
  readonly stored: Promise<unknown>;
  readonly first: bigint;
  last: bigint;
  state: "waiting" | "ok" | "failed";
}

export class Confirms {
  private nextSeq = 1n;
  /** unconfirmed runs in sequence order (a Fifo lets go of each run once confirmed) */
  private readonly queue = new Fifo<Pending>();
  private tail: Pending | undefined;
  /** publishes answered (acked or nacked) so far */
  private answered = 0n;

  constructor(private readonly ch: ChannelContext) {}

  track(stored: Promise<unknown>): void {
    const seq = this.nextSeq++;
    const tail = this.tail;
    if (tail !== undefined && tail.stored === stored && tail.state === "waiting") {
      tail.last = seq;
      return;
    }
    const p: Pending = { stored, first: seq, last: seq, state: "waiting" };
    this.queue.push(p);
    this.tail = p;
    stored.then(
      () => this.settle(p, "ok"),
      () => this.settle(p, "failed"),
    );
  }

  private settle(p: Pending, state: "ok" | "failed"): void {
    p.state = state;
    let lastOk: bigint | null = null;
    let count = 0;
    for (let h = this.queue.peek(); h !== undefined && h.state !== "waiting"; h = this.queue.peek()) {
      this.queue.shift();
      this.answered += h.last - h.first + 1n;
      if (h.state === "ok") {
        lastOk = h.last;
        count += Number(h.last - h.first) + 1;
        continue;
      }
      if (lastOk !== null) this.acked(lastOk, count);
      lastOk = null;
      count = 0;
      // everything before h.first is confirmed already, so `multiple` covers exactly this run
      this.send(h.last, h.last > h.first, false);
    }
    if (lastOk !== null) this.acked(lastOk, count);
    if (this.queue.length === 0) this.tail = undefined;
  }

  /** Publishes not yet answered with basic.ack or basic.nack (the management API's messages_unconfirmed). */
  get unconfirmed(): number {
    return Number(this.nextSeq - 1n - this.answered);
  }

  /** `count` publishes up to `seq` are stored: one basic.ack covers them */
  private acked(seq: bigint, count: number): void {
    this.ch.vhost.stats.confirmed += count;
    this.send(seq, count > 1, true);
  }

  private send(seq: bigint, multiple: boolean, ok: boolean): void {
    if (!this.ch.isOpen) return;
    if (ok) this.ch.send(amqp.createMethod("basic.ack", { deliveryTag: seq, multiple }));
    else this.ch.send(amqp.createMethod("basic.nack", { deliveryTag: seq, multiple, requeue: false }));
  }
}
