// The outbox relay: claims committed rows, publishes them through any Bus and marks them sent, waking on
// the store's signal (NOTIFY, a SQLite commit) rather than sleeping between polls. Invariant: a row is
// marked sent only after the broker confirmed its publish; within one key the rows of a batch are
// published one after another in seq order, and a failed row stops the rest of its key's rows.
// Where the store allows it (PostgreSQL), `pipeline` claim loops run side by side, so the next batch is
// claimed while the last one's publishes are in flight; each loop is to the store what a separate relay
// is, and the store's claim already keeps a key's rows in order across relays.

import { type Counter, metrics, type ObservableGauge } from "@opentelemetry/api";
import type { PublishOptions } from "../envelope/envelope.ts";
import { type Clock, sleep, systemClock } from "../lib/clock.ts";
import { Waker } from "../lib/waker.ts";
import { SDK_NAME, SDK_VERSION } from "../version.ts";
import type { ClaimResult, OutboxRow, RelayStore } from "./outbox.ts";

/** What a relay publishes through: a Bus (`connect(url)`), or anything with the same publish. */
export interface Publisher {
  publish(topic: string, data: unknown, options?: PublishOptions): Promise<string>;
}

export interface RelayOptions {
  /** Rows claimed per batch; default 100. On PostgreSQL the claim's transaction holds a transaction id
   * while it publishes, and the event store's readers wait for every older transaction in the cluster to
   * end (see postgres-event-store.ts): larger batches make them wait longer. */
  readonly batchSize?: number;
  /** Batches in flight at once (PostgreSQL; SQLite relays claim one at a time); default 4. One loop
   * claims, publishes, marks and commits a batch before it claims again, leaving the broker idle between
   * batches; several loops keep it busy. Each holds a pool connection and a claim transaction while it
   * publishes. */
  readonly pipeline?: number;
  /** The longest a relay sleeps without a wake-up signal (missed notifications, rows of a crashed
   * relay becoming free); default 5 s. */
  readonly pollMs?: number;
  /** Keep sent rows this long before deleting them; default 0 (deleted when sent). */
  readonly retentionMs?: number;
  /** The window `publishRatePerSec` averages over; default 10 s. */
  readonly rateWindowMs?: number;
  readonly clock?: Clock;
  /** Publish and database errors (the relay backs off and carries on); console.error by default. */
  readonly onError?: (error: unknown) => void;
}

export interface OutboxMetrics {
  /** Committed rows not yet sent. */
  readonly pending: number;
  /** Age of the oldest pending row in ms (0 when none). */
  readonly oldestAgeMs: number;
  /** Rows this relay has published since it started. */
  readonly published: number;
  /** Rows per second this relay published over the last `rateWindowMs`. */
  readonly publishRatePerSec: number;
}

const HELD_BACK_RETRY_MS = 50;
const BACKOFF_MS_MAX = 30_000;

export class OutboxRelay {
  private readonly clock: Clock;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly retentionMs: number;
  private readonly rateWindowMs: number;
  private closed = false;
  /** One per claim loop: a waker has one waiter. */
  private readonly wakers: Waker[];
  private readonly stop = new AbortController();
  private publishedTotal = 0;
  private readonly recent: Array<{ ms: number; n: number }> = [];
  private lastPurgeMs = 0;
  private readonly watch: { close(): Promise<void> | void };
  private readonly loop: Promise<void>;
  private readonly keepAlive = setInterval(() => {}, 2 ** 30);
  private readonly otel: OtelRelay;

  constructor(
    private readonly store: RelayStore,
    private readonly bus: Publisher,
    private readonly options: RelayOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.batchSize = positive("batchSize", options.batchSize ?? 100);
    this.pollMs = positive("pollMs", options.pollMs ?? 5_000);
    this.retentionMs = options.retentionMs ?? 0;
    this.rateWindowMs = positive("rateWindowMs", options.rateWindowMs ?? 10_000);
    const pipeline = options.pipeline ?? 4;
    if (!Number.isInteger(pipeline) || pipeline < 1) {
      throw new TypeError("outbox relay: pipeline must be a whole number of batches, at least 1");
    }
    const loops = store.claimsOneAtATime === true ? 1 : pipeline;
    this.wakers = Array.from({ length: loops }, () => new Waker(this.clock));
    this.otel = otelRelay(() => this.store.backlog());
    this.watch = store.watch(() => this.wakeAll());
    this.loop = Promise.all(this.wakers.map((w) => this.run(w))).then(() => {});
  }

  private wakeAll(): void {
    for (const w of this.wakers) w.wake();
  }

  private report(e: unknown): void {
    (this.options.onError ?? reportRelayError)(e);
  }

  private async run(waker: Waker): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      waker.clear();
      const batch = { failed: false };
      let r: ClaimResult | undefined;
      try {
        r = await this.store.claim(this.batchSize, (rows) => this.publishRows(rows, batch));
        await this.purge();
      } catch (e) {
        this.report(e);
        batch.failed = true;
      }
      if (batch.failed || r === undefined) {
        failures++;
        await sleep(
          this.clock,
          Math.min(BACKOFF_MS_MAX, 100 * 2 ** Math.min(failures, 16)),
          this.stop.signal,
        );
        continue;
      }
      failures = 0;
      if (r.claimed > 0 && r.claimed + r.heldBack >= this.batchSize) continue;
      const idleMs = r.heldBack > 0 || r.busy === true ? HELD_BACK_RETRY_MS : this.pollMs;
      await waker.wait(this.retentionMs > 0 ? Math.min(idleMs, this.purgeEveryMs()) : idleMs);
    }
  }

  /** Publishes each key's rows in order, different keys (and rows without a key) side by side. */
  private async publishRows(rows: readonly OutboxRow[], batch: { failed: boolean }): Promise<number[]> {
    const chains = new Map<string, OutboxRow[]>();
    const loose: OutboxRow[] = [];
    for (const row of rows) {
      if (row.key === undefined) loose.push(row);
      else {
        const chain = chains.get(row.key);
        if (chain) chain.push(row);
        else chains.set(row.key, [row]);
      }
    }
    const sent: number[] = [];
    const one = async (row: OutboxRow): Promise<boolean> => {
      try {
        await this.bus.publish(row.topic, row.data, {
          ...row.metadata,
          id: row.id,
          type: row.type,
          ...(row.key === undefined ? {} : { key: row.key }),
        });
        sent.push(row.seq);
        return true;
      } catch (e) {
        batch.failed = true;
        this.report(e);
        return false;
      }
    };
    await Promise.all([
      ...[...chains.values()].map(async (chain) => {
        for (const row of chain) if (!(await one(row))) return;
      }),
      ...loose.map(one),
    ]);
    this.counted(sent.length);
    return sent;
  }

  private counted(n: number): void {
    if (n === 0) return;
    this.publishedTotal += n;
    this.otel.published.add(n);
    this.recent.push({ ms: this.clock.nowMs(), n });
    this.trimRecent();
  }

  private trimRecent(): void {
    const from = this.clock.nowMs() - this.rateWindowMs;
    while (this.recent.length > 0 && (this.recent[0] as { ms: number }).ms < from) this.recent.shift();
  }

  /** Sent rows outlive their retention by at most this much. */
  private purgeEveryMs(): number {
    return Math.min(Math.max(this.retentionMs / 4, 50), 60_000);
  }

  private async purge(): Promise<void> {
    if (this.retentionMs <= 0) return;
    const now = this.clock.nowMs();
    if (now - this.lastPurgeMs < this.purgeEveryMs()) return;
    this.lastPurgeMs = now;
    await this.store.purgeSent(now - this.retentionMs);
  }

  async metrics(): Promise<OutboxMetrics> {
    const backlog = await this.store.backlog();
    this.trimRecent();
    const n = this.recent.reduce((sum, s) => sum + s.n, 0);
    return {
      pending: backlog.pending,
      oldestAgeMs: backlog.oldestAgeMs,
      published: this.publishedTotal,
      publishRatePerSec: (n * 1000) / this.rateWindowMs,
    };
  }

  /** Finishes the batches in hand (their rows are marked), then stops; the process may exit after. */
  async close(): Promise<void> {
    if (this.closed) return this.loop;
    this.closed = true;
    this.stop.abort();
    this.wakeAll();
    await this.loop;
    clearInterval(this.keepAlive);
    this.otel.dispose();
    await this.watch.close();
    await this.store.close();
  }
}

/** Where relay errors go unless `onError` is given. */
export function reportRelayError(e: unknown): void {
  console.error("@spindle/sdk: outbox relay:", e);
}

function positive(name: string, n: number): number {
  if (!Number.isFinite(n) || n <= 0) throw new TypeError(`outbox relay: ${name} must be a positive number`);
  return n;
}

interface OtelRelay {
  readonly published: Counter;
  dispose(): void;
}

/** `spindle.sdk.outbox.published` and the backlog gauges, read from the store when a reader collects. */
function otelRelay(backlog: RelayStore["backlog"]): OtelRelay {
  const meter = metrics.getMeter(SDK_NAME, SDK_VERSION);
  const pending: ObservableGauge = meter.createObservableGauge("spindle.sdk.outbox.pending", {
    description: "committed outbox rows not yet published",
    unit: "{message}",
  });
  const oldest: ObservableGauge = meter.createObservableGauge("spindle.sdk.outbox.oldest_age", {
    description: "age of the oldest pending outbox row",
    unit: "ms",
  });
  const observe = async (r: { observe(g: ObservableGauge, v: number): void }): Promise<void> => {
    const b = await backlog();
    r.observe(pending, b.pending);
    r.observe(oldest, b.oldestAgeMs);
  };
  meter.addBatchObservableCallback(observe, [pending, oldest]);
  return {
    published: meter.createCounter("spindle.sdk.outbox.published", {
      description: "outbox rows published and marked sent",
      unit: "{message}",
    }),
    dispose: () => meter.removeBatchObservableCallback(observe, [pending, oldest]),
  };
}
