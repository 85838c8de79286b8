// exchange.* and queue.* methods on a channel: argument conversion, calls into the vhost, replies.
// Invariant: a reply (declare-ok, bind-ok, …) is sent only after the change is durable; nowait sends none.

import * as amqp from "@spindle/protocol/amqp";
import type { Binding, ExchangeDef } from "../../queues/index.ts";
import type { ChannelContext } from "./channel-context.ts";
import { plainTable } from "./tables.ts";

export class Definitions {
  constructor(private readonly ch: ChannelContext) {}

  private get vhost() {
    return this.ch.vhost;
  }

  private reply(nowait: boolean, m: amqp.AmqpMethod): void {
    if (!nowait) this.ch.send(m);
  }

  /** Returns false when `m` is not an exchange or queue method. */
  async handle(m: amqp.AmqpMethod): Promise<boolean> {
    switch (m.name) {
      case "exchange.declare":
        await this.declareExchange(m.args);
        return true;
      case "exchange.delete":
        await this.vhost.deleteExchange(m.args.exchange, m.args.ifUnused);
        this.reply(m.args.nowait, amqp.createMethod("exchange.delete-ok", {}));
        return true;
      case "exchange.bind":
      case "exchange.unbind":
        await this.bindExchange(m.name === "exchange.bind", m.args);
        return true;
      case "queue.declare":
        await this.declareQueue(m.args);
        return true;
      case "queue.bind":
      case "queue.unbind":
        await this.bindQueue(m.name === "queue.bind", m.args);
        return true;
      case "queue.purge": {
        const q = this.vhost.queue(this.queueName(m.args.queue), this.ch.owner);
        const messageCount = await q.purge();
        this.reply(m.args.nowait, amqp.createMethod("queue.purge-ok", { messageCount }));
        return true;
      }
      case "queue.delete": {
        const { ifUnused, ifEmpty, nowait } = m.args;
        const messageCount = await this.vhost.deleteQueue(
          this.queueName(m.args.queue),
          this.ch.owner,
          ifUnused,
          ifEmpty,
        );
        this.reply(nowait, amqp.createMethod("queue.delete-ok", { messageCount }));
        return true;
      }
      default:
        return false;
    }
  }

  /** An empty queue name means the channel's last declared queue (AMQP's "current queue"). */
  queueName(name: string): string {
    return name === "" ? (this.ch.lastQueue ?? "") : name;
  }

  private async declareExchange(a: amqp.MethodArgsByName["exchange.declare"]): Promise<void> {
    const def: ExchangeDef = {
      name: a.exchange,
      type: a.type as ExchangeDef["type"],
      durable: a.durable,
      autoDelete: a.autoDelete,
      internal: a.internal,
      args: plainTable(a.arguments),
    };
    await this.vhost.declareExchange(def, a.passive);
    this.reply(a.nowait, amqp.createMethod("exchange.declare-ok", {}));
  }

  private async bindExchange(bind: boolean, a: amqp.MethodArgsByName["exchange.bind"]): Promise<void> {
    const b: Binding = {
      source: a.source,
      destKind: "exchange",
      destination: a.destination,
      routingKey: a.routingKey,
      args: plainTable(a.arguments),
    };
    this.vhost.exchange(b.destination);
    this.vhost.exchange(b.source);
    if (bind) await this.vhost.bind(b);
    else await this.vhost.unbind(b);
    this.reply(a.nowait, amqp.createMethod(bind ? "exchange.bind-ok" : "exchange.unbind-ok", {}));
  }

  private async declareQueue(a: amqp.MethodArgsByName["queue.declare"]): Promise<void> {
    const q = await this.vhost.declareQueue(
      {
        name: a.queue,
        passive: a.passive,
        durable: a.durable,
        exclusive: a.exclusive,
        autoDelete: a.autoDelete,
        args: plainTable(a.arguments),
      },
      this.ch.owner,
    );
    this.ch.lastQueue = q.name;
    const { messageCount, consumerCount } = q;
    this.reply(
      a.nowait,
      amqp.createMethod("queue.declare-ok", { queue: q.name, messageCount, consumerCount }),
    );
  }

  private async bindQueue(
    bind: boolean,
    a: amqp.MethodArgsByName["queue.unbind"] & { nowait?: boolean },
  ): Promise<void> {
    const b: Binding = {
      source: a.exchange,
      destKind: "queue",
      destination: this.queueName(a.queue),
      routingKey: a.routingKey,
      args: plainTable(a.arguments),
    };
    this.vhost.queue(b.destination, this.ch.owner);
    this.vhost.exchange(b.source);
    if (bind) await this.vhost.bind(b);
    else await this.vhost.unbind(b);
    if (bind) this.reply(a.nowait ?? false, amqp.createMethod("queue.bind-ok", {}));
    else this.ch.send(amqp.createMethod("queue.unbind-ok", {}));
  }
}
