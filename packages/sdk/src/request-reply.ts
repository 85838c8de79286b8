// Request/reply over messaging: a request carries `replyto` (this bus's private reply topic) and the
// reply comes back with the request's id as its causation id, matched here. Invariants: each request
// settles once — with the reply, with the responder's error, or with RequestTimeoutError; the private
// reply subscription exists only while the bus lives (a temporary group).

import { randomUUID } from "node:crypto";
import type { Message, PublishOptions } from "./envelope/envelope.ts";
import { RequestTimeoutError } from "./errors.ts";
import type { Clock } from "./lib/clock.ts";

export interface RequestOptions extends PublishOptions {
  /** How long to wait for the reply; default 30 s. */
  readonly timeoutMs?: number;
}

/** The responder's handler failed for good; `message` is its error's. */
export class RemoteError extends Error {
  override readonly name = "RemoteError";
}

interface Pending {
  resolve(m: Message): void;
  reject(e: Error): void;
}

export interface ReplyBus {
  readonly clock: Clock;
  publish(topic: string, data: unknown, options?: PublishOptions): Promise<string>;
  subscribeReplies(topic: string, handler: (m: Message) => void): Promise<void>;
}

export class Requester {
  private readonly pending = new Map<string, Pending>();
  private readonly topic = `spindle.reply.${randomUUID()}`;
  private ready: Promise<void> | undefined;

  constructor(private readonly bus: ReplyBus) {}

  async request<T = unknown>(topic: string, data: unknown, o: RequestOptions = {}): Promise<Message<T>> {
    this.ready ??= this.bus.subscribeReplies(this.topic, (m) => this.replied(m));
    await this.ready;
    const id = o.id ?? randomUUID();
    const timeoutMs = o.timeoutMs ?? 30_000;
    const reply = new Promise<Message>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // The timeout may fire while publish is still awaited (a slow broker): mark the rejection handled
    // now; `await reply` below still throws it to the caller.
    reply.catch(() => {});
    const timer = this.bus.clock.setTimer(timeoutMs, () => {
      this.settle(id)?.reject(
        new RequestTimeoutError(`no reply to ${topic} request ${id} within ${timeoutMs} ms`),
      );
    });
    try {
      await this.bus.publish(topic, data, { ...o, id, extensions: { ...o.extensions, replyto: this.topic } });
      return (await reply) as Message<T>;
    } finally {
      this.bus.clock.clearTimer(timer);
      this.pending.delete(id);
    }
  }

  private settle(id: string): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  private replied(m: Message): void {
    const p = m.causationId === undefined ? undefined : this.settle(m.causationId);
    if (p === undefined) return; // late (timed out) or not ours
    const error = m.attributes.extensions.replyerror;
    if (error !== undefined) p.reject(new RemoteError(error));
    else p.resolve(m);
  }

  /** Rejects every waiting request (the bus is closing). */
  close(): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new Error("the bus closed before the reply came"));
    }
  }
}
