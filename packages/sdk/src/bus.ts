// The Bus: publish, subscribe (through the consumer pipeline), dead letters, request/reply and close, on
// any transport. Invariants: the bus talks to its broker only through the Transport interface; a
// delivery is acked only after its handler resolved (or its failure was dead-lettered or re-sent).

import { listDeadLetters, type RedriveOptions, type RedriveResult, redrive } from "./dead-letters.ts";
import {
  buildMessage,
  checkPublish,
  HEADER,
  type Message,
  type PublishOptions,
  toMessage,
} from "./envelope/envelope.ts";
import {
  bufferSerializer,
  decodeBody,
  type Encoded,
  jsonSerializer,
  type Serializer,
  SerializerChoice,
  textSerializer,
} from "./envelope/serializers.ts";
import { CircuitOpenError, NonRetryableError } from "./errors.ts";
import { untilAborted } from "./lib/abort.ts";
import { type Clock, systemClock } from "./lib/clock.ts";
import { assemble, type PipelineOptions } from "./pipeline/assemble.ts";
import type { CircuitState } from "./pipeline/circuit-breaker.ts";
import { Consumer } from "./pipeline/consumer.ts";
import { type ConsumeContext, compose } from "./pipeline/context.ts";
import { type DeadLetter, describeError } from "./pipeline/dead-letter.ts";
import { Processing, type SubscriptionScope } from "./pipeline/processing.ts";
import { makeRateLimiter, type RateLimiter, type RateLimitOptions } from "./pipeline/rate-limit.ts";
import { StatsRecorder, type SubscriptionStats } from "./pipeline/stats.ts";
import { tracedPublish } from "./pipeline/tracing.ts";
import { Requester, type RequestOptions } from "./request-reply.ts";
import type {
  Delivery,
  Transport,
  TransportFactory,
  TransportMessage,
  TransportStatus,
} from "./transports/transport.ts";

export interface ConnectOptions {
  /** Time for every delay, timeout and backoff (a FakeClock in tests). */
  readonly clock?: Clock;
  /** CloudEvents `source` of published messages; defaults to `spindle-sdk://<host>/<pid>`. */
  readonly source?: string;
  /** Serializer for published data that is not a Buffer; JSON by default. */
  readonly serializer?: Serializer;
  /** More serializers to decode received bodies by their content type (JSON, Buffer, text built in). */
  readonly serializers?: readonly Serializer[];
  /** Paces every publish of this bus (per message key when `perKey`): a rate-limited producer. */
  readonly publishRateLimit?: RateLimitOptions | RateLimiter;
  /** A transport made elsewhere (an adapter not in the registry). */
  readonly transport?: TransportFactory;
  /** Errors the SDK cannot hand to a caller (a failed ack, a dropped message); console.error by default. */
  readonly onError?: (error: unknown, context: string) => void;
  /** Connection state changes (the transport reconnects and resubscribes by itself). */
  readonly onStatus?: (status: TransportStatus, error?: Error) => void;
}

/** What a handler gets besides the message. */
export interface HandlerContext {
  /** Aborted when the handler's timeout passes or its subscription is forced to stop. */
  readonly signal: AbortSignal;
  /** The inbox's transaction (Postgres: a pg client inside BEGIN; SQLite: the connection). */
  readonly tx: unknown;
  /** Publishes with this message as the cause (causation id = its id; correlation id carried over). */
  publish(topic: string, data: unknown, options?: PublishOptions): Promise<string>;
}

/** A handler; what it returns is the reply when the message is a request. */
export type Handler<T = unknown> = (message: Message<T>, context: HandlerContext) => unknown;

export interface SubscribeOptions extends PipelineOptions {
  /** Competing consumers share a group; each group gets its own copy of every message. */
  readonly group: string;
  /** Handlers running at once; default 1. */
  readonly concurrency?: number;
  /** Messages held unacknowledged at once (≥ concurrency); default `concurrency`. */
  readonly prefetch?: number;
  /** How long close() waits for running handlers before aborting their signal; default 30 s. */
  readonly drainTimeoutMs?: number;
  /**
   * Messages with the same key run one at a time, in arrival order, while other keys run in parallel
   * (default true): with it, the order a transport keeps per key (a Kafka partition, one AMQP queue)
   * survives `concurrency` > 1. A delayed retry lets the key's later messages pass.
   */
  readonly orderByKey?: boolean;
}

export interface Subscription {
  pause(): void;
  resume(): void;
  /** Stops taking messages, waits for running handlers (drain), then leaves the group. */
  close(): Promise<void>;
  /** Messages of the group not yet delivered, where the transport knows. */
  lag(): Promise<number | undefined>;
  readonly stats: Readonly<SubscriptionStats>;
  /** The circuit breaker's state, when the subscription has one. */
  readonly circuit: CircuitState | undefined;
}

export class Bus {
  private readonly consumers = new Set<Consumer>();
  private closed = false;
  readonly clock: Clock;
  readonly source: string;
  private readonly serializer: Serializer;
  private readonly decoders: SerializerChoice;
  private readonly publishLimiter: RateLimiter | undefined;
  private readonly requester: Requester;

  constructor(
    readonly transport: Transport,
    private readonly options: ConnectOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.source = options.source ?? `spindle-sdk://${process.env.HOSTNAME ?? "localhost"}/${process.pid}`;
    this.serializer = options.serializer ?? jsonSerializer;
    this.decoders = new SerializerChoice([
      ...(options.serializers ?? []),
      jsonSerializer,
      bufferSerializer,
      textSerializer,
    ]);
    this.publishLimiter = options.publishRateLimit && makeRateLimiter(this.clock, options.publishRateLimit);
    if (options.onStatus) transport.onStatus?.(options.onStatus);
    this.requester = new Requester({
      clock: this.clock,
      publish: (t, d, o) => this.publish(t, d, o),
      subscribeReplies: async (topic, handler) => {
        await this.subscribe(
          topic,
          { group: topic, retry: false, deadLetter: false, maxRedeliveries: false, temporary: true },
          (m) => {
            handler(m);
          },
        );
      },
    });
  }

  private reportError(error: unknown, context: string): void {
    if (this.options.onError) this.options.onError(error, context);
    else console.error(`@spindle/sdk: ${context}:`, error);
  }

  /** Publishes `data` to every group of `topic`; resolves with the message id once the broker holds it. */
  publish(topic: string, data: unknown, options: PublishOptions = NO_OPTIONS): Promise<string> {
    // not async: with a synchronous serializer and no rate limit, nothing is awaited before the transport
    try {
      this.checkOpen();
      checkPublish(topic, options);
      const s = options.serializer ?? (Buffer.isBuffer(data) ? bufferSerializer : this.serializer);
      const encoded = s.encode(data, { topic, type: options.type ?? topic });
      if (isThenable(encoded) || this.publishLimiter !== undefined) {
        return this.publishLater(topic, options, s.contentType, encoded);
      }
      return this.send(topic, this.envelope(topic, options, s.contentType, encoded));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private async publishLater(
    topic: string,
    options: PublishOptions,
    contentType: string,
    encoded: Encoded | PromiseLike<Encoded>,
  ): Promise<string> {
    const m = this.envelope(topic, options, contentType, await encoded);
    if (this.publishLimiter) await this.publishLimiter.acquire(options.key);
    return this.send(topic, m);
  }

  private envelope(
    topic: string,
    options: PublishOptions,
    contentType: string,
    e: Encoded,
  ): TransportMessage {
    return buildMessage(
      topic,
      options,
      { body: e.body, contentType, dataschema: e.dataschema },
      { source: this.source, nowMs: this.clock.nowMs() },
    );
  }

  private send(topic: string, m: TransportMessage): Promise<string> {
    const id = m.attributes.id;
    return tracedPublish(this.transport.system, topic, m, (traceContext) =>
      this.transport.publish(topic, traceContext === undefined ? m : withTraceContext(m, traceContext)),
    ).then(() => id);
  }

  /** Decodes a received message (a body that does not decode is a NonRetryableError: dead-lettered). */
  private async decode(topic: string, m: TransportMessage, attempt: number): Promise<Message<unknown>> {
    const ct = m.attributes.datacontenttype;
    let data: unknown;
    try {
      data = await decodeBody(this.decoders, m.body, {
        topic,
        type: m.attributes.type,
        contentType: ct,
        dataschema: m.attributes.dataschema,
      });
    } catch (e) {
      throw new NonRetryableError(`message ${m.attributes.id} does not decode as ${ct}`, { cause: e });
    }
    return toMessage(topic, m, data, attempt);
  }

  /** Consumes `topic` as a member of `options.group` through the pipeline the options describe. */
  async subscribe<T = unknown>(
    topic: string,
    options: SubscribeOptions & { readonly temporary?: boolean },
    handler: Handler<T>,
  ): Promise<Subscription> {
    this.checkOpen();
    if (typeof options?.group !== "string" || options.group.length === 0) {
      throw new TypeError("subscribe: options.group must name the consumer group (a non-empty string)");
    }
    const group = options.group;
    const stats = new StatsRecorder(this.transport.system, topic, group);
    const { middleware, breaker } = assemble(topic, group, options, {
      clock: this.clock,
      system: this.transport.system,
      stats,
      onDrop: (e) => this.reportError(e, `dropped a message of ${topic}/${group} (deadLetter: false)`),
    });
    const run = compose(middleware, (ctx) => this.callHandler(ctx, handler as Handler));
    const concurrency = options.concurrency ?? 1;
    const scope: SubscriptionScope = {
      topic,
      group,
      transport: this.transport,
      clock: this.clock,
      decode: (m, attempt) => this.decode(topic, m, attempt),
      subscription: {
        pause: () => consumer.pause("pipeline"),
        resume: () => consumer.resume("pipeline"),
        get paused() {
          return consumer.paused;
        },
      },
    };
    const consumer: Consumer = new Consumer({
      topic,
      group,
      transport: this.transport,
      clock: this.clock,
      concurrency,
      prefetch: options.prefetch ?? concurrency,
      ...(options.temporary ? { temporary: true } : {}),
      orderByKey: options.orderByKey ?? true,
      process: (d, stop) => this.process(scope, d, stop, run, stats),
      onError: (e) => this.reportError(e, `subscription ${topic}/${group}`),
    });
    await consumer.start();
    stats.observeLag(() => consumer.lag());
    this.consumers.add(consumer);
    const drainMs = options.drainTimeoutMs ?? 30_000;
    return {
      pause: () => consumer.pause(),
      resume: () => consumer.resume(),
      close: async () => {
        await consumer.close(drainMs);
        breaker?.dispose();
        stats.close();
        this.consumers.delete(consumer);
      },
      lag: () => consumer.lag(),
      stats: stats.stats,
      get circuit() {
        return breaker?.state;
      },
    };
  }

  private async process(
    scope: SubscriptionScope,
    delivery: Delivery,
    stop: AbortSignal,
    run: (ctx: ConsumeContext) => Promise<void>,
    stats: StatsRecorder,
  ): Promise<void> {
    const attempt = positiveInt(delivery.message.headers[HEADER.attempt]) ?? 1;
    const ctx = new Processing(scope, delivery, stop, attempt);
    try {
      await run(ctx);
    } catch (e) {
      if (!(e instanceof CircuitOpenError) || ctx.settled) throw e;
      // the breaker refused it: back to the broker unprocessed, not an attempt
      await ctx.settle("release", () => delivery.release());
      ctx.outcome = "released";
      stats.released();
      return;
    }
    if (ctx.outcome === "dead-lettered" || ctx.outcome === "dropped")
      await this.replyError(delivery.message, ctx);
    if (ctx.settled) return;
    if (ctx.outcome === undefined) {
      ctx.outcome = "processed";
      stats.add("processed");
      if (delivery.message.attributes.extensions.replyto !== undefined)
        await this.reply(delivery.message, ctx.result);
    }
    await ctx.settle("ack", () => delivery.ack());
  }

  /**
   * The terminal step: decode, call the handler, and stop waiting for it once the signal aborts. A handler
   * that returns no promise is done when it returns: nothing to race against the signal.
   */
  private async callHandler(ctx: ConsumeContext, handler: Handler): Promise<void> {
    const message = await ctx.message();
    const signal = ctx.signal;
    signal.throwIfAborted();
    const result = handler(message, new HandlerCall(this, message, signal, ctx.tx));
    ctx.result = isThenable(result) ? await untilAborted(result, signal) : result;
  }

  private async reply(request: TransportMessage, result: unknown): Promise<void> {
    const to = request.attributes.extensions.replyto;
    if (to === undefined) return;
    const correlationId = request.attributes.extensions.correlationid ?? request.attributes.id;
    await this.publish(to, result ?? null, { correlationId, causationId: request.attributes.id });
  }

  private async replyError(request: TransportMessage, ctx: ConsumeContext): Promise<void> {
    const to = request.attributes.extensions.replyto;
    if (to === undefined) return;
    const error = describeError(ctx.error ?? "the request failed");
    await this.publish(to, null, {
      causationId: request.attributes.id,
      extensions: { replyerror: error.message },
    }).catch((e) => this.reportError(e, `error reply to ${to}`));
  }

  /** Sends `data` to `topic` and waits for the responder's reply (its handler's return value). */
  request<T = unknown>(topic: string, data: unknown, options?: RequestOptions): Promise<Message<T>> {
    this.checkOpen();
    return this.requester.request<T>(topic, data, options);
  }

  /** Up to `limit` messages of dead-letter queue `queue`, oldest first, with why they failed. */
  deadLetters(queue: string, options: { limit?: number } = {}): Promise<DeadLetter[]> {
    return listDeadLetters(this.transport, queue, options.limit ?? 100);
  }

  /** Sends dead letters back to the group they failed in; reports how many. */
  redrive(queue: string, options?: RedriveOptions): Promise<RedriveResult> {
    return redrive(this.transport, this.clock, queue, options);
  }

  /** Closes every subscription (draining running handlers), then the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.requester.close();
    await Promise.all([...this.consumers].map((c) => c.close(30_000)));
    this.consumers.clear();
    await this.transport.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("the bus is closed");
  }
}

function positiveInt(v: string | undefined): number | undefined {
  const n = Number(v);
  return v !== undefined && Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

const NO_OPTIONS: PublishOptions = Object.freeze({});

function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | null | undefined)?.then === "function";
}

/** `m` with the trace context a publish span hands over, as CloudEvents extension attributes. */
function withTraceContext(m: TransportMessage, traceContext: Record<string, string>): TransportMessage {
  return {
    ...m,
    attributes: { ...m.attributes, extensions: { ...m.attributes.extensions, ...traceContext } },
  };
}

/** A handler's HandlerContext: one object per call; `publish` is made only when the handler reads it. */
class HandlerCall implements HandlerContext {
  constructor(
    private readonly bus: Bus,
    private readonly cause: Message<unknown>,
    readonly signal: AbortSignal,
    readonly tx: unknown,
  ) {}

  get publish(): HandlerContext["publish"] {
    const { bus, cause } = this;
    return (topic, data, o = {}) =>
      bus.publish(topic, data, {
        correlationId: cause.correlationId ?? cause.id,
        causationId: cause.id,
        ...o,
      });
  }
}
