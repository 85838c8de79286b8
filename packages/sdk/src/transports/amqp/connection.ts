// One AMQP connection that comes back: connects, and after a drop reconnects with backoff on the Clock,
// then tells its users (subscriptions re-attach). Invariant: `session()` only ever hands out the live
// connection's session; after close() it rejects, and no timer or socket is left behind.

import type { ChannelModel } from "amqplib";
import type { Clock, TimerHandle } from "../../lib/clock.ts";
import { backoffMs } from "../backoff.ts";
import type { TransportStatus } from "../transport.ts";
import { coalesceWrites } from "./coalesce-writes.ts";
import { Session } from "./session.ts";

type AmqpLib = typeof import("amqplib");

export class AmqpConnection {
  private current: Session | undefined;
  private waiters: { resolve: (s: Session) => void; reject: (e: Error) => void }[] = [];
  private closed = false;
  private attempt = 0;
  private timer: TimerHandle | undefined;
  private readonly statusListeners: ((s: TransportStatus, e?: Error) => void)[] = [];
  /** Called with each new session after a reconnect (not the first). */
  readonly reconnected = new Set<(s: Session) => void>();

  /** Whether the broker holds delayed copies itself (x-delayed-message), learnt once at start. */
  private delayedExchange = false;

  constructor(
    private readonly amqp: AmqpLib,
    private readonly url: string,
    private readonly clock: Clock,
  ) {}

  /**
   * The first connection: a broker that cannot be reached now is an error for the caller. `probe` says,
   * from the broker's product name, whether it has x-delayed-message.
   */
  async start(probe: (product: unknown) => Promise<boolean>): Promise<void> {
    const first = await this.open();
    try {
      this.delayedExchange = await probe(first.model.connection.serverProperties.product);
    } catch (e) {
      await first.model.close().catch(() => {});
      throw e;
    }
    first.delayedExchange = this.delayedExchange;
    this.current = first;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onStatus(listener: (s: TransportStatus, e?: Error) => void): void {
    this.statusListeners.push(listener);
  }

  /** The live session now, if connected (the publish fast path). */
  get live(): Session | undefined {
    return this.current;
  }

  /** The live session, waiting out a reconnect. */
  session(): Promise<Session> {
    if (this.closed) return Promise.reject(new Error("amqp transport closed"));
    if (this.current !== undefined) return Promise.resolve(this.current);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async open(): Promise<Session> {
    const model: ChannelModel = await this.amqp.connect(this.url, {
      clientProperties: { connection_name: `spindle-sdk ${process.pid}` },
    });
    coalesceWrites(model);
    const session = new Session(model, this.delayedExchange);
    model.on("error", () => {}); // 'close' follows with the same error; handled there
    model.on("close", (err?: Error) => this.dropped(session, err));
    return session;
  }

  private dropped(session: Session, err?: Error): void {
    session.dead = true;
    if (this.current !== session) return;
    this.current = undefined;
    if (this.closed) return;
    const why = err ?? new Error("amqp connection closed by the broker");
    for (const l of this.statusListeners) l("reconnecting", why);
    this.schedule();
  }

  private schedule(): void {
    this.timer = this.clock.setTimer(backoffMs(this.attempt++), () => void this.retry());
  }

  private async retry(): Promise<void> {
    if (this.closed) return;
    let session: Session;
    try {
      session = await this.open();
    } catch {
      if (!this.closed) this.schedule();
      return;
    }
    if (this.closed) {
      await session.model.close().catch(() => {});
      return;
    }
    this.attempt = 0;
    this.current = session;
    for (const l of this.statusListeners) l("connected");
    for (const w of this.waiters.splice(0)) w.resolve(session);
    for (const r of this.reconnected) r(session);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimer(this.timer);
    for (const w of this.waiters.splice(0)) w.reject(new Error("amqp transport closed"));
    const s = this.current;
    this.current = undefined;
    if (s !== undefined) await s.model.close().catch(() => {});
    for (const l of this.statusListeners) l("closed");
  }
}
