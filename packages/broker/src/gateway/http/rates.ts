// Rates for the management API (`*_details: {rate}`): the broker's counters and each queue's, sampled
// every 5 s on the context's Clock (RabbitMQ's default collect_statistics_interval); a rate is the change
// between the last two samples per second. Invariant: one sampler per HttpContext, started when the
// HTTP app loads; a sample costs O(queues) with no allocation per queue after its first, and readers
// never walk the queues (a queue that was there at the first sample has rate 0 until it was sampled twice).

import type { Clock, TimerHandle } from "../../lib/index.ts";
import type { Queue } from "../../queues/index.ts";
import type { HttpContext } from "./context.ts";

export const RATE_INTERVAL_MS = 5000;

/** A queue's counters and lengths that have rates, named as in the queue's JSON. */
const QUEUE_RATE_FIELDS = [
  "publish",
  "deliver_get",
  "deliver",
  "deliver_no_ack",
  "get",
  "get_no_ack",
  "redeliver",
  "ack",
  "messages",
  "messages_ready",
  "messages_unacknowledged",
] as const;
export type QueueRateField = (typeof QUEUE_RATE_FIELDS)[number];
const FIELDS = QUEUE_RATE_FIELDS.length;
export const QUEUE_RATE_INDEX = Object.fromEntries(QUEUE_RATE_FIELDS.map((f, i) => [f, i])) as Readonly<
  Record<QueueRateField, number>
>;
const INDEX = QUEUE_RATE_INDEX;

/** A queue's values of QUEUE_RATE_FIELDS, in that order, written into `out` at `at`. */
function readQueue(q: Queue, out: Float64Array, at: number): void {
  const s = q.stats;
  const ready = q.messageCount;
  const unacked = q.unackedCount;
  out[at] = s.publish;
  out[at + 1] = s.deliver + s.deliverNoAck + s.get + s.getNoAck;
  out[at + 2] = s.deliver;
  out[at + 3] = s.deliverNoAck;
  out[at + 4] = s.get;
  out[at + 5] = s.getNoAck;
  out[at + 6] = s.redeliver;
  out[at + 7] = s.ack;
  out[at + 8] = ready + unacked;
  out[at + 9] = ready;
  out[at + 10] = unacked;
}

export interface RateSources {
  /** the broker-wide counters, by name (a snapshot) */
  global(): Readonly<Record<string, number>>;
  queues(): Iterable<Queue>;
}

/** One queue's samples: the previous in [0, FIELDS), the last in [FIELDS, 2·FIELDS) (NaN = not sampled),
 *  and the rates between them, worked out when sampled so that a read is an index. */
interface QueueSamples {
  readonly samples: Float64Array;
  readonly rates: Float64Array;
}

const NO_RATES = new Float64Array(FIELDS);

export class RateSampler {
  private prevGlobal: Readonly<Record<string, number>> = {};
  private lastGlobal: Readonly<Record<string, number>> = {};
  private readonly perQueue = new WeakMap<Queue, QueueSamples>();
  private prevMs = Number.NaN;
  private lastMs = Number.NaN;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly sources: RateSources,
    private readonly intervalMs = RATE_INTERVAL_MS,
  ) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.sample();
    this.timer = this.clock.setRepeating(this.intervalMs, () => this.sample());
  }

  stop(): void {
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  sample(): void {
    this.prevMs = this.lastMs;
    this.lastMs = this.clock.nowMs();
    this.prevGlobal = this.lastGlobal;
    this.lastGlobal = this.sources.global();
    const seconds = (this.lastMs - this.prevMs) / 1000;
    for (const q of this.sources.queues()) {
      let s = this.perQueue.get(q);
      if (s === undefined) {
        // Every sample reads every queue, so one unseen by an earlier sample was declared since it, with
        // nothing in it and its counters at 0; only at the first sample is its past unknown.
        const past = Number.isNaN(this.prevMs) ? Number.NaN : 0;
        s = { samples: new Float64Array(2 * FIELDS).fill(past), rates: new Float64Array(FIELDS) };
        this.perQueue.set(q, s);
      } else s.samples.copyWithin(0, FIELDS);
      const a = s.samples;
      readQueue(q, a, FIELDS);
      for (let i = 0; i < FIELDS; i++)
        s.rates[i] = perSecond(a[i] as number, a[FIELDS + i] as number, seconds);
    }
  }

  /** Per second, of a broker-wide counter (a name RateSources.global gives). */
  rate(name: string): number {
    const seconds = (this.lastMs - this.prevMs) / 1000;
    return perSecond(this.prevGlobal[name] ?? Number.NaN, this.lastGlobal[name] ?? Number.NaN, seconds);
  }

  /** A queue's rates per second, indexed as QUEUE_RATE_FIELDS (zeros until it was sampled twice). */
  queueRates(q: Queue): Readonly<Float64Array> {
    return this.perQueue.get(q)?.rates ?? NO_RATES;
  }

  queueRate(q: Queue, field: QueueRateField): number {
    return this.queueRates(q)[INDEX[field]] ?? 0;
  }
}

/** The change per second, to one decimal as RabbitMQ shows it; 0 without two samples. */
function perSecond(prev: number, last: number, seconds: number): number {
  if (!(seconds > 0)) return 0;
  const r = (last - prev) / seconds;
  return Number.isFinite(r) ? Math.round(r * 10) / 10 : 0;
}

/** The broker-wide counters with rates, named as the management API's overview names them. */
export function globalCounters(ctx: HttpContext): Record<string, number> {
  const s = ctx.vhost.stats;
  let ready = 0;
  let unacked = 0;
  for (const q of ctx.vhost.queues.values()) {
    ready += q.messageCount;
    unacked += q.unackedCount;
  }
  const d = s.deadLettered;
  return {
    publish: s.received,
    confirm: s.confirmed,
    deliver_get: s.delivered,
    deliver: s.deliveredConsumeManualAck,
    deliver_no_ack: s.deliveredConsumeAutoAck,
    get: s.deliveredGetManualAck,
    get_no_ack: s.deliveredGetAutoAck,
    get_empty: s.getEmpty,
    redeliver: s.redelivered,
    ack: s.acknowledged,
    return_unroutable: s.unroutableReturned,
    drop_unroutable: s.unroutableDropped,
    dead_lettered: d.rejected + d.expired + d.maxlen + d.delivery_limit,
    messages: ready + unacked,
    messages_ready: ready,
    messages_unacknowledged: unacked,
    produce_bytes: ctx.streams.traffic.producedBytes,
    fetch_bytes: ctx.streams.traffic.fetchedBytes,
  };
}

const samplers = new WeakMap<HttpContext, RateSampler>();

/** The context's sampler, started on first use (the HTTP app asks for it when it loads). */
export function ratesOf(ctx: HttpContext): RateSampler {
  let r = samplers.get(ctx);
  if (r === undefined) {
    r = new RateSampler(ctx.clock, {
      global: () => globalCounters(ctx),
      queues: () => ctx.vhost.queues.values(),
    });
    samplers.set(ctx, r);
    r.start();
  }
  return r;
}
