// Acks of one consumer channel sent together: the acks of a turn of the event loop go out at its end, a
// run of settled deliveries from the oldest outstanding one as a single `basic.ack multiple`, the rest
// one by one. Invariant: an ack (single or multiple) only ever covers deliveries that were acked here —
// a delivery still running, being recounted or released is never inside a `multiple` range.
//
// At-least-once holds: an ack is only ever later than the handler's end, never earlier; one lost with the
// channel (closed before the turn ended) means a redelivery, as any ack lost in flight does. close() sends
// what is pending before the channel goes.

import type { Channel, Message } from "amqplib";

export class AckBatcher {
  /** Delivery tags handed out on the channel and not yet settled (acked or released), ascending. */
  private readonly outstanding: number[] = [];
  /** Tags acked since the last flush. */
  private readonly acked = new Set<number>();
  private scheduled = false;

  constructor(private readonly ch: Channel) {}

  /** Every delivery of the channel, before anything settles it (tags rise per channel). */
  delivered(msg: Message): void {
    this.outstanding.push(msg.fields.deliveryTag);
  }

  ack(msg: Message): void {
    this.acked.add(msg.fields.deliveryTag);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Back to the queue now (not batched): it leaves the outstanding range first. */
  release(msg: Message): void {
    this.forget(msg.fields.deliveryTag);
    this.ch.nack(msg, false, true);
  }

  /** Sends the pending acks: the leading run as one `multiple`, the others singly. */
  flush(): void {
    this.scheduled = false;
    if (this.acked.size === 0) return;
    const out = this.outstanding;
    let run = 0;
    while (run < out.length && this.acked.has(out[run] as number)) this.acked.delete(out[run++] as number);
    const upTo = run > 0 ? (out[run - 1] as number) : undefined;
    out.splice(0, run);
    try {
      if (upTo !== undefined) this.ch.ack(tagged(upTo), run > 1);
      for (const tag of this.acked) {
        this.forget(tag);
        this.ch.ack(tagged(tag), false);
      }
    } catch {
      // the channel closed: the broker has requeued every unacked delivery of it
    } finally {
      this.acked.clear();
    }
  }

  private forget(tag: number): void {
    const at = this.outstanding.indexOf(tag);
    if (at >= 0) this.outstanding.splice(at, 1);
  }
}

/** What amqplib's ack reads of a message: its delivery tag. */
function tagged(deliveryTag: number): Message {
  return { fields: { deliveryTag } } as Message;
}
