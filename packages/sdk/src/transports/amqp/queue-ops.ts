// Queues outside any group (dead letters) over AMQP: browse reads with basic.get and hands every message
// back, take leases with basic.get until ack or release. Invariant: a browse removes nothing (closing its
// channel requeues what it got), and a taken message stays the taker's until settled or its channel goes.

import type { Channel, GetMessage } from "amqplib";
import type { Taken, TransportMessage } from "../transport.ts";
import { fromAmqp } from "./amqp-message.ts";
import type { Session } from "./session.ts";

async function getUpTo(ch: Channel, queue: string, limit: number): Promise<GetMessage[]> {
  const got: GetMessage[] = [];
  while (got.length < limit) {
    const m = await ch.get(queue, { noAck: false });
    if (m === false) break;
    got.push(m);
  }
  return got;
}

export async function browse(s: Session, queue: string, limit: number): Promise<TransportMessage[]> {
  await s.ensureQueue(queue);
  const ch = await s.channel();
  try {
    return (await getUpTo(ch, queue, limit)).map(fromAmqp);
  } finally {
    // requeued in their original order (RabbitMQ and Spindle put requeued messages back where they were)
    await ch.close().catch(() => {});
  }
}

export async function take(s: Session, queue: string, limit: number): Promise<Taken[]> {
  await s.ensureQueue(queue);
  const ch = await s.channel();
  let open: number;
  let got: GetMessage[];
  try {
    got = await getUpTo(ch, queue, limit);
  } catch (e) {
    await ch.close().catch(() => {});
    throw e;
  }
  open = got.length;
  if (open === 0) await ch.close().catch(() => {});
  // the channel lives until the last taken message is settled
  const settled = (): Promise<void> => (--open === 0 ? ch.close().catch(() => {}) : Promise.resolve());
  return got.map((m) => {
    let done = false;
    const settle = (fn: () => void): Promise<void> => {
      if (done) return Promise.resolve();
      done = true;
      try {
        fn();
      } catch {
        // channel gone: the broker requeued the message
      }
      return settled();
    };
    return {
      message: fromAmqp(m),
      ack: () => settle(() => ch.ack(m)),
      release: () => settle(() => ch.nack(m, false, true)),
    };
  });
}
