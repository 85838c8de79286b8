// One AMQP channel: content assembly, in-order method handling, and its close handshake.
// Invariant: methods of a channel take effect in the order received; after a channel error only
// channel.close/close-ok are acted on, and unacked deliveries are requeued when the channel ends.

import { amqp } from "@spindle/protocol";
import { delayOf, type Message, parseExpiration } from "../../queues/index.ts";
import { Basic } from "./basic.ts";
import type { Connection } from "./connection.ts";
import { Definitions } from "./definitions.ts";
import { channelError, connectionError, toReply } from "./error-map.ts";
import { plainTable } from "./tables.ts";

interface Assembly {
  readonly publish: amqp.MethodArgsByName["basic.publish"];
  header?: amqp.HeaderFrame;
  properties?: Buffer;
  parts: Buffer[];
  received: number;
}

export class Channel {
  private closing = false;
  private ended = false;
  private assembly: Assembly | null = null;
  private chain: Promise<void> = Promise.resolve();
  readonly basic: Basic;
  private readonly defs: Definitions;

  constructor(
    readonly number: number,
    readonly conn: Connection,
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

  send(method: amqp.AmqpMethod): void {
    this.conn.send(this.number, method);
  }

  onFrame(raw: amqp.RawFrame): void {
    const f = amqp.decodeFrame(raw);
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
      this.chain = this.chain.then(() => {
        if (this.ended) return;
        this.cleanup();
        this.send(amqp.createMethod("channel.close-ok", {}));
        this.finish();
      });
      return;
    }
    this.enqueue(m, () => this.handle(m));
  }

  private onHeader(f: amqp.HeaderFrame, payload: Buffer): void {
    const a = this.assembly as Assembly;
    if (a.header !== undefined) throw connectionError(amqp.UNEXPECTED_FRAME, "second content header");
    if (f.bodySize > this.conn.deps.messageBytesMax) {
      this.assembly = null;
      this.fail(
        channelError(
          amqp.PRECONDITION_FAILED,
          `message size ${f.bodySize} is larger than configured max size ${this.conn.deps.messageBytesMax}`,
        ),
        60,
        40,
      );
      return;
    }
    a.header = f;
    a.properties = Buffer.from(payload.subarray(12));
    if (f.bodySize === 0) this.completePublish(a);
  }

  private onBody(payload: Buffer): void {
    const a = this.assembly as Assembly;
    if (a.header === undefined)
      throw connectionError(amqp.UNEXPECTED_FRAME, "body frame before content header");
    a.parts.push(Buffer.from(payload));
    a.received += payload.length;
    if (a.received > a.header.bodySize) {
      throw connectionError(
        amqp.FRAME_ERROR,
        `body of ${a.received} bytes exceeds declared ${a.header.bodySize}`,
      );
    }
    if (a.received === a.header.bodySize) this.completePublish(a);
  }

  private completePublish(a: Assembly): void {
    this.assembly = null;
    const header = a.header as amqp.HeaderFrame;
    const props = header.properties;
    let message: Message = {
      exchange: a.publish.exchange,
      routingKey: a.publish.routingKey,
      properties: a.properties as Buffer,
      body: a.parts.length === 1 ? (a.parts[0] as Buffer) : Buffer.concat(a.parts),
      persistent: props.deliveryMode === 2,
      ...(props.priority ? { priority: props.priority } : {}),
      ...(props.headers !== undefined ? { headers: plainTable(props.headers) } : {}),
    };
    const delayMs = delayOf(message.headers);
    if (delayMs > 0) message = { ...message, delayMs };
    const publish = a.publish;
    const expiration = props.expiration;
    this.enqueue({ name: "basic.publish", args: publish }, () => {
      const m =
        expiration === undefined ? message : { ...message, expirationMs: parseExpiration(expiration) };
      return this.basic.publish(publish, m);
    });
  }

  /** Runs `fn` after every earlier method of this channel; its error closes the channel or connection. */
  private enqueue(m: amqp.AmqpMethod, fn: () => void | Promise<void>): void {
    const info = amqp.METHOD_INFO[m.name];
    this.chain = this.chain.then(async () => {
      if (!this.isOpen) return;
      try {
        await fn();
      } catch (err) {
        this.fail(err, info.classId, info.methodId);
      }
    });
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
