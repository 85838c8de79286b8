// One AMQP channel: content assembly, in-order method handling, and its close handshake.
// Invariant: methods of a channel take effect in the order received; after a channel error only
// channel.close/close-ok are acted on, and unacked deliveries are requeued when the channel ends.

import * as amqp from "@spindle/protocol/amqp";
import { createMessage, type Message, parseExpiration } from "../../queues/index.ts";
import { Basic } from "./basic.ts";
import type { BodyReservation } from "./body-budget.ts";
import type { ChannelContext, ChannelHost } from "./channel-context.ts";
import { Definitions } from "./definitions.ts";
import { channelError, connectionError, toReply } from "./error-map.ts";
import { delayOfTable, headersOfTable } from "./publish-headers.ts";

/** The frame with a payload of its own: a content header's bytes become the message's property bytes. */
function ownPayload(raw: amqp.RawFrame): amqp.RawFrame {
  return { type: raw.type, channel: raw.channel, payload: Buffer.from(raw.payload) };
}

interface Assembly {
  readonly publish: amqp.MethodArgsByName["basic.publish"];
  header?: amqp.LazyHeaderFrame;
  /** the content header's property bytes (a copy: the message keeps them, not the chunk they came in) */
  properties?: Buffer;
  /** the body's declared size, held in the connection's and the broker's BodyBudget until it completes */
  reservation?: BodyReservation;
  parts: Buffer[];
  received: number;
}

export class Channel implements ChannelContext {
  private closing = false;
  private ended = false;
  private assembly: Assembly | null = null;
  private chain: Promise<void> = Promise.resolve();
  /** steps on the chain not yet run: while there are any, new methods queue behind them */
  private waiting = 0;
  readonly basic: Basic;
  private readonly defs: Definitions;
  lastQueue: string | undefined;

  constructor(
    readonly number: number,
    private readonly conn: ChannelHost,
    /** content frames before the first basic.publish belong to a refused publish: drop them */
    private ignoreStrayContent = false,
  ) {
    this.basic = new Basic(this);
    this.defs = new Definitions(this);
  }

  get owner(): string {
    return this.conn.id;
  }

  get isOpen(): boolean {
    return !this.closing && !this.ended;
  }

  get vhost() {
    return this.conn.vhost;
  }

  get cancelNotify(): boolean {
    return this.conn.cancelNotify;
  }

  get backlogged(): boolean {
    return this.conn.backlogged;
  }

  get memory() {
    return this.conn.memory;
  }

  trackUnstored(bytes: number, stored: Promise<unknown>): void {
    this.conn.trackUnstored(bytes, stored);
  }

  send(method: amqp.AmqpMethod): void {
    this.conn.send(this.number, method);
  }

  /** A content-carrying method (deliver, get-ok, return) with the message's header and body frames. */
  sendContent(method: amqp.AmqpMethod, m: Message, after?: Promise<void>): void {
    this.conn.sendContent(this.number, method, m, after);
  }

  onFrame(frame: amqp.RawFrame): void {
    // a content header's table stays bytes, a view of its (copied) payload: see publish-headers.ts
    const raw = frame.type === amqp.FRAME_HEADER ? ownPayload(frame) : frame;
    const f = amqp.decodeFrameLazy(raw);
    if (this.closing) {
      if (f.type === "method" && f.method.name === "channel.close-ok") this.finish();
      else if (f.type === "method" && f.method.name === "channel.open") {
        // amqplib can reopen the number before its close-ok (queued behind a refused body) is sent
        this.finish();
        this.conn.reopenChannel(this.number);
      } else if (f.type === "method" && f.method.name === "channel.close") {
        this.send(amqp.createMethod("channel.close-ok", {}));
      }
      return;
    }
    if (f.type === "method") {
      this.onMethod(f.method);
      return;
    }
    if (f.type === "heartbeat") return;
    if (this.assembly === null) {
      if (this.ignoreStrayContent) return;
      throw connectionError(amqp.UNEXPECTED_FRAME, `unexpected ${f.type} frame`);
    }
    if (f.type === "header") {
      this.onHeader(f, raw.payload);
      return;
    }
    this.onBody(f.payload);
  }

  private onMethod(m: amqp.AmqpMethod): void {
    if (this.assembly !== null) {
      throw connectionError(
        amqp.UNEXPECTED_FRAME,
        `expected content header for basic.publish, got ${m.name}`,
      );
    }
    if (m.name === "basic.publish") {
      this.ignoreStrayContent = false;
      this.assembly = { publish: m.args, parts: [], received: 0 };
      return;
    }
    if (m.name === "channel.close") {
      this.later(() => {
        if (this.ended) return;
        this.cleanup();
        this.send(amqp.createMethod("channel.close-ok", {}));
        this.finish();
      });
      return;
    }
    if (m.name === "basic.ack" || m.name === "basic.nack" || m.name === "basic.reject") {
      this.enqueue(m.name, () => this.basic.settleMethod(m));
      return;
    }
    this.enqueue(m.name, () => this.handle(m));
  }

  private onHeader(f: amqp.LazyHeaderFrame, payload: Buffer): void {
    const a = this.assembly as Assembly;
    if (a.header !== undefined) throw connectionError(amqp.UNEXPECTED_FRAME, "second content header");
    if (f.bodySize > this.conn.messageBytesMax) {
      this.assembly = null;
      this.fail(
        channelError(
          amqp.PRECONDITION_FAILED,
          `message size ${f.bodySize} is larger than configured max size ${this.conn.messageBytesMax}`,
        ),
        60,
        40,
      );
      return;
    }
    const reservation = this.conn.bodies.reserve(f.bodySize);
    if (typeof reservation === "string") {
      this.assembly = null;
      this.fail(channelError(amqp.PRECONDITION_FAILED, reservation), 60, 40);
      return;
    }
    a.reservation = reservation;
    a.header = f;
    a.properties = payload.subarray(12);
    if (f.bodySize === 0) this.completePublish(a);
  }

  private onBody(payload: Buffer): void {
    const a = this.assembly as Assembly;
    if (a.header === undefined)
      throw connectionError(amqp.UNEXPECTED_FRAME, "body frame before content header");
    a.parts.push(Buffer.from(payload));
    a.received += payload.length;
    if (a.reservation !== undefined) this.conn.bodies.received(a.reservation, payload.length);
    if (a.received > a.header.bodySize) {
      throw connectionError(
        amqp.FRAME_ERROR,
        `body of ${a.received} bytes exceeds declared ${a.header.bodySize}`,
      );
    }
    if (a.received === a.header.bodySize) this.completePublish(a);
  }

  private completePublish(a: Assembly): void {
    this.dropAssembly();
    this.enqueue("basic.publish", () => this.publish(a));
  }

  /** The publish in progress is done with (complete, refused or its channel ended): its reservation goes. */
  private dropAssembly(): void {
    const r = this.assembly?.reservation;
    this.assembly = null;
    if (r !== undefined) this.conn.bodies.release(r);
  }

  private publish(a: Assembly): void {
    const props = (a.header as amqp.LazyHeaderFrame).properties;
    const body = a.parts.length === 1 ? (a.parts[0] as Buffer) : Buffer.concat(a.parts);
    const persistent = props.deliveryMode === 2;
    const { exchange, routingKey } = a.publish;
    const properties = a.properties as Buffer;
    const headers = headersOfTable(props.headers);
    const message = createMessage({
      exchange,
      routingKey,
      properties,
      body,
      persistent,
      expirationMs: props.expiration === undefined ? undefined : parseExpiration(props.expiration),
      priority: props.priority,
      delayMs: delayOfTable(props.headers, headers),
    });
    this.basic.publish(a.publish, message, headers);
  }

  /** Runs `fn` after every earlier method of this channel; its error closes the channel or connection.
   *  With nothing waiting it runs at once: a publish must not cost a promise when it does not wait. */
  private enqueue(m: amqp.MethodName, fn: () => void | Promise<void>): void {
    if (this.waiting > 0) {
      this.later(() => this.run(m, fn));
      return;
    }
    const r = this.run(m, fn);
    if (r !== undefined) this.later(() => r);
  }

  /** Appends a step to the chain; methods received meanwhile wait behind it. */
  private later(step: () => void | Promise<void>): void {
    this.waiting++;
    this.chain = this.chain
      .then(step)
      .catch((err: unknown) => this.fail(err, 0, 0))
      .finally(() => {
        this.waiting--;
      });
  }

  /** Runs one method; returns a promise (that never rejects) when it has to wait for something. */
  private run(m: amqp.MethodName, fn: () => void | Promise<void>): Promise<void> | undefined {
    if (!this.isOpen) return undefined;
    try {
      const r = fn();
      return r instanceof Promise ? r.catch((err: unknown) => this.failMethod(err, m)) : undefined;
    } catch (err) {
      this.failMethod(err, m);
      return undefined;
    }
  }

  private failMethod(err: unknown, m: amqp.MethodName): void {
    const info = amqp.METHOD_INFO[m];
    this.fail(err, info.classId, info.methodId);
  }

  private async handle(m: amqp.AmqpMethod): Promise<void> {
    if (await this.defs.handle(m)) return;
    if (await this.basic.handle(m)) return;
    switch (m.name) {
      case "channel.flow":
        this.basic.setFlow(m.args.active);
        return this.send(amqp.createMethod("channel.flow-ok", { active: m.args.active }));
      case "channel.close-ok":
        return;
      case "channel.open":
        throw connectionError(amqp.CHANNEL_ERROR, "second 'channel.open' seen");
      default:
        throw connectionError(amqp.COMMAND_INVALID, `method ${m.name} is not allowed here`);
    }
  }

  /** Closes this channel (soft error) or the whole connection (hard error). */
  fail(err: unknown, classId: number, methodId: number): void {
    const r = toReply(err);
    if (r.scope === "connection") {
      this.conn.fail(err, classId, methodId);
      return;
    }
    if (this.closing) return;
    this.closing = true;
    this.cleanup();
    this.send(
      amqp.createMethod("channel.close", { replyCode: r.code, replyText: r.text, classId, methodId }),
    );
  }

  /** Consumers cancelled and unacked messages requeued; safe to call more than once. */
  cleanup(): void {
    this.dropAssembly();
    if (this.ended) return;
    this.basic.cleanup();
  }

  private finish(): void {
    this.cleanup();
    this.ended = true;
    this.conn.channelClosed(this.number, this.closing);
  }

  /** The socket drained: consumers may take messages again. */
  resume(): void {
    this.basic.resume();
  }
}
