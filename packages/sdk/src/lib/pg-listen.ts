// Keeps one pooled PostgreSQL connection LISTENing on a channel and calls `onWake` for each NOTIFY, so
// relays and subscriptions wake when a writer commits instead of polling. Invariant: after every
// (re)connect `onWake` is called once, because a notification sent while nobody listened is lost.

import type { Pool, PoolClient } from "pg";
import type { Clock, TimerHandle } from "./clock.ts";

export interface PgListener {
  close(): Promise<void>;
}

const BACKOFF_MS_MAX = 30_000;

class Listener implements PgListener {
  private client: PoolClient | undefined;
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly channel: string,
    private readonly onWake: () => void,
    private readonly clock: Clock,
    private readonly onError: (e: unknown) => void,
  ) {}

  async connect(attempt: number): Promise<void> {
    if (this.closed) return;
    let c: PoolClient | undefined;
    try {
      c = await this.pool.connect();
      if (this.closed) {
        c.release();
        return;
      }
      const client = c;
      client.on("notification", this.onNotification);
      client.on("error", this.onClientError);
      await client.query(`LISTEN "${this.channel}"`);
      this.client = client;
      if (this.closed) {
        await this.close();
        return;
      }
      this.onWake();
    } catch (e) {
      c?.release(e instanceof Error ? e : new Error(String(e)));
      this.onError(e);
      this.retry(attempt + 1);
    }
  }

  private readonly onNotification = (n: { channel: string }): void => {
    if (n.channel === this.channel) this.onWake();
  };

  private readonly onClientError = (e: Error): void => {
    const c = this.client;
    if (c === undefined) return;
    this.client = undefined;
    c.off("notification", this.onNotification);
    c.off("error", this.onClientError);
    c.release(e);
    this.onError(e);
    this.retry(1);
  };

  private retry(attempt: number): void {
    if (this.closed) return;
    const ms = Math.min(BACKOFF_MS_MAX, 100 * 2 ** Math.min(attempt, 16));
    this.timer = this.clock.setTimer(ms, () => void this.connect(attempt));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimer(this.timer);
    const c = this.client;
    this.client = undefined;
    if (c === undefined) return;
    await c.query(`UNLISTEN "${this.channel}"`).catch(() => {});
    // the client goes back to the pool: it must not keep waking us
    c.off("notification", this.onNotification);
    c.off("error", this.onClientError);
    c.release();
  }
}

/** LISTENs on `channel` (a plain identifier) with a client of `pool`, reconnecting with backoff. */
export function pgListen(
  pool: Pool,
  channel: string,
  onWake: () => void,
  clock: Clock,
  onError: (e: unknown) => void,
): PgListener {
  const l = new Listener(pool, channel, onWake, clock, onError);
  void l.connect(0);
  return l;
}
