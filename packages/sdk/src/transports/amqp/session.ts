// What lives as long as one AMQP connection: the declarations made on it (cached, so a topic is declared
// once per connection, not per publish), a channel for declarations and the confirm channel publishes go
// through. Invariant: a publish resolves only on the broker's confirm; a failed declaration is not cached.

import type { Channel, ChannelModel, ConfirmChannel, Options } from "amqplib";
import { publishConfirmed } from "./confirm-publish.ts";
import { DELAYED_EXCHANGE, groupQueue, topicExchange, ttlQueue } from "./names.ts";

/** How long a TTL delay queue lives unused past its longest hold; it is redeclared (kept alive) at least
 * once a minute while copies are published to it, so it never expires with copies inside. */
const TTL_QUEUE_SPARE_MS = 10 * 60_000;
const TTL_QUEUE_REDECLARE_MS = 60_000;

export class Session {
  /** Set once the connection is gone: every channel of it is too. */
  dead = false;
  private readonly declared = new Map<string, { atMs: number; done: Promise<void>; ok: boolean }>();
  private declarer: Promise<Channel> | undefined;
  private publisher: Promise<ConfirmChannel> | undefined;
  /** The confirm channel once open: the publish fast path uses it without awaiting. */
  private publisherOpen: ConfirmChannel | undefined;
  private drained: Promise<void> | undefined;

  constructor(
    readonly model: ChannelModel,
    /** Whether delayed copies go through x-delayed-message (else TTL queues) */
    public delayedExchange: boolean,
  ) {}

  /** Forget the declarations (someone may have deleted what they declared) and the channels. */
  forget(): void {
    this.declared.clear();
    this.declarer = undefined;
    this.publisher = undefined;
    this.publisherOpen = undefined;
  }

  /** Whether the topic's exchange is declared on this connection (the publish fast path). */
  topicReady(topic: string): boolean {
    return this.declared.get(`e:${topic}`)?.ok === true;
  }

  /** A fresh channel whose errors are taken (they close it; the caller sees the failed call). */
  async channel(): Promise<Channel> {
    const ch = await this.model.createChannel();
    ch.on("error", () => {});
    return ch;
  }

  private declarerChannel(): Promise<Channel> {
    if (this.declarer === undefined) {
      const p = this.channel();
      this.declarer = p;
      const drop = () => {
        if (this.declarer === p) this.declarer = undefined;
      };
      p.then((ch) => ch.on("close", drop), drop);
    }
    return this.declarer;
  }

  private declare(key: string, make: (ch: Channel) => Promise<unknown>, maxAgeMs = Infinity): Promise<void> {
    const now = Date.now();
    const had = this.declared.get(key);
    if (had !== undefined && now - had.atMs < maxAgeMs) return had.done;
    const entry = { atMs: now, done: Promise.resolve(), ok: false };
    entry.done = this.declarerChannel().then(async (ch) => {
      await make(ch);
      entry.ok = true;
    });
    this.declared.set(key, entry);
    entry.done.catch(() => this.declared.get(key) === entry && this.declared.delete(key));
    return entry.done;
  }

  ensureTopic(topic: string): Promise<void> {
    return this.declare(`e:${topic}`, (ch) =>
      ch.assertExchange(topicExchange(topic), "fanout", { durable: true }),
    );
  }

  /** A private topic (a bus's reply topic) goes with its only subscription: its exchange is deleted. */
  async dropTopic(topic: string): Promise<void> {
    this.declared.delete(`e:${topic}`);
    const ch = await this.channel();
    try {
      await ch.deleteExchange(topicExchange(topic));
    } finally {
      await ch.close().catch(() => {});
    }
  }

  ensureDelayedExchange(): Promise<void> {
    return this.declare("delayed", (ch) =>
      ch.assertExchange(DELAYED_EXCHANGE, "x-delayed-message", {
        durable: true,
        arguments: { "x-delayed-type": "direct" },
      }),
    );
  }

  /** The group's durable queue, bound to the topic (and to the delayed exchange by its own name). */
  ensureGroup(topic: string, group: string): Promise<void> {
    const q = groupQueue(topic, group);
    return this.declare(`g:${q}`, async (ch) => {
      await this.ensureTopic(topic);
      await ch.assertQueue(q, { durable: true });
      await ch.bindQueue(q, topicExchange(topic), "");
      if (this.delayedExchange) {
        await this.ensureDelayedExchange();
        await ch.bindQueue(q, DELAYED_EXCHANGE, q);
      }
    });
  }

  ensureQueue(queue: string): Promise<void> {
    return this.declare(`q:${queue}`, (ch) => ch.assertQueue(queue, { durable: true }));
  }

  /** The TTL queue a copy for `target` waits in, dead-lettering to it on expiry; returns its name. */
  async ensureTtlQueue(target: string, delayMs: number): Promise<string> {
    const { name, tierMs } = ttlQueue(target, delayMs);
    const args = {
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": target,
      "x-expires": 2 * tierMs + TTL_QUEUE_SPARE_MS,
    };
    await this.declare(
      `t:${name}`,
      (ch) => ch.assertQueue(name, { durable: true, arguments: args }),
      TTL_QUEUE_REDECLARE_MS,
    );
    return name;
  }

  private publisherChannel(): Promise<ConfirmChannel> {
    if (this.publisher === undefined) {
      const p = this.model.createConfirmChannel();
      this.publisher = p;
      const drop = () => {
        if (this.publisher !== p) return;
        this.publisher = undefined;
        this.publisherOpen = undefined;
      };
      p.then((ch) => {
        ch.on("error", () => {});
        ch.on("close", drop);
        if (this.publisher === p) this.publisherOpen = ch;
      }, drop);
    }
    return this.publisher;
  }

  /** basic.publish on the confirm channel; resolves on the broker's ack, rejects on nack or a close. */
  publish(exchange: string, routingKey: string, body: Buffer, options: Options.Publish): Promise<void> {
    const open = this.publisherOpen;
    // fast path, no await before the write: the channel is open and the socket takes more
    if (open !== undefined && this.drained === undefined)
      return this.send(open, exchange, routingKey, body, options);
    return this.publishSlow(exchange, routingKey, body, options);
  }

  private async publishSlow(exchange: string, routingKey: string, body: Buffer, options: Options.Publish) {
    const ch = await this.publisherChannel();
    while (this.drained !== undefined) await this.drained;
    await this.send(ch, exchange, routingKey, body, options);
  }

  private send(
    ch: ConfirmChannel,
    exchange: string,
    routingKey: string,
    body: Buffer,
    options: Options.Publish,
  ) {
    return new Promise<void>((resolve, reject) => {
      const written = publishConfirmed(ch, exchange, routingKey, body, options, (err: unknown) =>
        err
          ? reject(err instanceof Error ? err : new Error(`publish to ${exchange || routingKey} nacked`))
          : resolve(),
      );
      if (!written && this.drained === undefined) this.waitForDrain(ch);
    });
  }

  /** The socket buffer is full: later publishes wait until it drains (or the channel goes). */
  private waitForDrain(ch: ConfirmChannel): void {
    this.drained = new Promise<void>((resolve) => {
      const done = () => {
        ch.off("drain", done);
        ch.off("close", done);
        this.drained = undefined;
        resolve();
      };
      ch.on("drain", done);
      ch.on("close", done);
    });
  }
}
