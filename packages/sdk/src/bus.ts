// The Bus: publish, subscribe (through the consumer pipeline), dead letters, request/reply and close, on
// any transport. Invariant: the bus talks to its broker only through the Transport interface.

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
  jsonSerializer,
  type Serializer,
  textSerializer,
} from "./envelope/serializers.ts";
import { NonRetryableError } from "./errors.ts";
import { type Clock, systemClock } from "./lib/clock.ts";
import { Consumer } from "./pipeline/consumer.ts";
import { type ConsumeContext, compose, type Middleware } from "./pipeline/context.ts";
import type { Delivery, Transport, TransportFactory, TransportMessage } from "./transports/transport.ts";

export interface ConnectOptions {
  /** Time for every delay, timeout and backoff (a FakeClock in tests). */
  readonly clock?: Clock;
  /** CloudEvents `source` of published messages; defaults to `spindle-sdk://<hostname>/<pid>`. */
  readonly source?: string;
  /** Serializer for published data that is not a Buffer; JSON by default. */
  readonly serializer?: Serializer;
  /** More serializers to decode received bodies by their content type (JSON, Buffer, text built in). */
  readonly serializers?: readonly Serializer[];
  /** A transport made elsewhere (an adapter not in the registry, a test double of a broker). */
  readonly transport?: TransportFactory;
  /** Called for errors the SDK cannot hand to a caller (a failed ack, a failed dead-letter publish). */
  readonly onError?: (error: unknown, context: string) => void;
}

/** What a handler gets besides the message. */
export interface HandlerContext {
  /** Aborted when the handler's timeout passes or its subscription is forced to stop. */
  readonly signal: AbortSignal;
  /** The inbox's transaction (Postgres: a pg client inside BEGIN); undefined without a transactional inbox. */
  readonly tx: unknown;
  /** Publishes with this message as the cause (causation id = its id; correlation id carried over). */
  publish(topic: string, data: unknown, options?: PublishOptions): Promise<string>;
}

export type Handler<T = unknown> = (message: Message<T>, context: HandlerContext) => unknown;

export interface SubscribeOptions {
  /** Competing consumers share a group; each group gets its own copy of every message. */
  readonly group: string;
  /** Handlers running at once; default 1. */
  readonly concurrency?: number;
  /** Messages held unacknowledged at once; default `concurrency`. */
  readonly prefetch?: number;
  /** Extra middleware, run inside the built-in ones (closest to the handler). */
  readonly middleware?: readonly Middleware[];
  /** How long close() waits for running handlers before aborting their signal; default 30 s. */
  readonly drainTimeoutMs?: number;
}

export interface Subscription {
  pause(): void;
  resume(): void;
  /** Stops taking messages, waits for running handlers (drain), then leaves the group. */
  close(): Promise<void>;
  /** Messages of the group not yet delivered, where the transport knows. */
  lag(): Promise<number | undefined>;
}

export class Bus {
  private readonly subscriptions = new Set<Consumer>();
  private closed = false;
  readonly clock: Clock;
  readonly source: string;
  private readonly serializer: Serializer;
  private readonly decoders: readonly Serializer[];

  constructor(
    readonly transport: Transport,
    private readonly options: ConnectOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.source = options.source ?? `spindle-sdk://${process.env.HOSTNAME ?? "localhost"}/${process.pid}`;
    this.serializer = options.serializer ?? jsonSerializer;
    this.decoders = [...(options.serializers ?? []), jsonSerializer, bufferSerializer, textSerializer];
  }

  reportError(error: unknown, context: string): void {
    if (this.options.onError) this.options.onError(error, context);
    else console.error(`@spindle/sdk: ${context}:`, error);
  }

  /** Publishes `data` to every group of `topic`; resolves with the message id once the broker holds it. */
  async publish(topic: string, data: unknown, options: PublishOptions = {}): Promise<string> {
    const m = await this.encode(topic, data, options);
    await this.transport.publish(topic, m);
    return m.attributes.id;
  }

  async encode(topic: string, data: unknown, options: PublishOptions): Promise<TransportMessage> {
    this.checkOpen();
    checkPublish(topic, options);
    const s = options.serializer ?? (Buffer.isBuffer(data) ? bufferSerializer : this.serializer);
    const type = options.type ?? topic;
    const encoded = await s.encode(data, { topic, type });
    return buildMessage(
      topic,
      options,
      { body: encoded.body, contentType: s.contentType, dataschema: encoded.dataschema },
      { source: this.source, nowMs: this.clock.nowMs() },
    );
  }

  /** Decodes a received message's body (a body that does not decode is a NonRetryableError). */
  async decode(topic: string, m: TransportMessage, attempt: number): Promise<Message<unknown>> {
    let data: unknown;
    try {
      data = await decodeBody(this.decoders, m.body, {
        topic,
        type: m.attributes.type,
        contentType: m.attributes.datacontenttype,
        dataschema: m.attributes.dataschema,
      });
    } catch (e) {
      throw new NonRetryableError(
        `message ${m.attributes.id} does not decode as ${m.attributes.datacontenttype}`,
        {
          cause: e,
        },
      );
    }
    return toMessage(topic, m, data, attempt);
  }

  async subscribe<T = unknown>(
    topic: string,
    options: SubscribeOptions,
    handler: Handler<T>,
  ): Promise<Subscription> {
    this.checkOpen();
    if (typeof options?.group !== "string" || options.group.length === 0) {
      throw new TypeError("subscribe: options.group must name the consumer group (a non-empty string)");
    }
    const concurrency = options.concurrency ?? 1;
    const run = compose(options.middleware ?? [], (ctx) => this.callHandler(ctx, handler as Handler));
    const consumer: Consumer = new Consumer({
      topic,
      group: options.group,
      transport: this.transport,
      clock: this.clock,
      concurrency,
      prefetch: options.prefetch ?? concurrency,
      process: (d, stop) => this.process(topic, options.group, d, stop, run, consumer),
      onError: (e) => this.reportError(e, `subscription ${topic}/${options.group}`),
    });
    await consumer.start();
    this.subscriptions.add(consumer);
    const drainMs = options.drainTimeoutMs ?? 30_000;
    return {
      pause: () => consumer.pause(),
      resume: () => consumer.resume(),
      close: async () => {
        await consumer.close(drainMs);
        this.subscriptions.delete(consumer);
      },
      lag: () => consumer.lag(),
    };
  }

  private async process(
    topic: string,
    group: string,
    delivery: Delivery,
    stop: AbortSignal,
    run: (ctx: ConsumeContext) => Promise<void>,
    consumer: Consumer,
  ): Promise<boolean> {
    const h = delivery.message.headers;
    const ctx: ConsumeContext = {
      topic,
      group,
      delivery,
      transport: this.transport,
      clock: this.clock,
      attempt: positiveInt(h[HEADER.attempt]) ?? 1,
      firstFailureMs: undefined,
      signal: stop,
      settled: false,
      result: undefined,
      tx: undefined,
      message: () => this.decode(topic, delivery.message, ctx.attempt),
      subscription: {
        pause: () => consumer.pause("pipeline"),
        resume: () => consumer.resume("pipeline"),
        get paused() {
          return consumer.paused;
        },
      },
    };
    await run(ctx);
    return ctx.settled;
  }

  /** The terminal step: decode, call the handler, and stop waiting for it once the signal aborts. */
  private async callHandler(ctx: ConsumeContext, handler: Handler): Promise<void> {
    const message = await ctx.message();
    const signal = ctx.signal;
    signal.throwIfAborted();
    const hctx: HandlerContext = {
      signal,
      tx: ctx.tx,
      publish: (t, data, o = {}) =>
        this.publish(t, data, {
          correlationId: message.correlationId ?? message.id,
          causationId: message.id,
          ...o,
        }),
    };
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      ctx.result = await Promise.race([Promise.resolve().then(() => handler(message, hctx)), aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort as () => void);
    }
  }

  /** Closes every subscription (draining running handlers), then the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((c) => c.close(30_000)));
    this.subscriptions.clear();
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
